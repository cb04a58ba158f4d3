"""Skip a build that would change nothing: what went into the last successful full build, as one hash.

The fingerprint covers everything a full `dbt build` reads: the content of every RAW table (row count and a sum of
row hashes, so rows loaded by the loader and rows changed by hand both count), the dbt project's files (models,
yml, macros, tests, dbt_project.yml, profiles.yml: what dbt's manifest checksums are computed from), the vars of
the build (`as_of_date`), the target and the dbt version. It is recorded in the stack's folder after a successful
full build and forgotten before any other build starts, so a failed or partial build never leaves a stale one.

RAW is the only schema dbt models read (sources in other schemas, like the churn predictions in MARTS, are declared
for the docs, not read by a model): a model reading another source would have to add it here.
Only the local DuckDB warehouse has a fingerprint: reading a Snowflake account's RAW costs more than it saves.
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path

from pipeline.errors import ShopstreamError
from pipeline.rows import one_row
from pipeline.runs import RUN_HISTORY_TABLE
from pipeline.settings import DuckDBWarehouse, Settings

FINGERPRINT_FILE = "last_build.json"
# dbt's own output folders inside the project, and anything else that is not the project's source.
_NOT_READ_BY_DBT = frozenset({RUN_HISTORY_TABLE.split(".")[-1].upper()})  # bookkeeping of the CLI and the DAG
_NOT_SOURCE = frozenset({"target", "logs", "dbt_packages", "__pycache__", ".user.yml"})


def current(settings: Settings, project_dir: Path, build_vars: dict) -> str | None:
    """The fingerprint a full build would record now; None when the warehouse cannot have one, or cannot be read
    (then dbt runs, and reports what is wrong with the warehouse in its own words)."""
    if not isinstance(settings.warehouse, DuckDBWarehouse) or not settings.warehouse.path.exists():
        return None
    try:
        content = raw_content(settings)
    except ShopstreamError:
        return None
    digest = hashlib.sha256()
    digest.update(json.dumps({"vars": build_vars, "dbt": metadata.version("dbt-core")}, sort_keys=True).encode())
    digest.update(json.dumps(content).encode())
    digest.update(project_digest(project_dir).encode())
    return digest.hexdigest()


def project_digest(project_dir: Path) -> str:
    """One hash of every file of the dbt project: its paths and contents."""
    digest = hashlib.sha256()
    for path in project_files(project_dir):
        digest.update(str(path.relative_to(project_dir)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def raw_content(settings: Settings) -> list[list]:
    """[table, rows, sum of row hashes] for every RAW table dbt may read: the load history and load errors included,
    the run history (written by every command, read by no model) left out."""
    from pipeline.warehouse.duckdb import open_warehouse

    with open_warehouse(settings, read_only=True) as con:
        tables = [
            name
            for (name,) in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'RAW' ORDER BY table_name"
            ).fetchall()
            if name.upper() not in _NOT_READ_BY_DBT
        ]
        content = 'SELECT count(*), sum(hash(t)::HUGEINT)::VARCHAR FROM "RAW"."{}" AS t'
        return [[table, *one_row(con.execute(content.format(table)))] for table in tables]


def project_files(project_dir: Path) -> list[Path]:
    return sorted(
        path
        for path in project_dir.rglob("*")
        if path.is_file() and not _NOT_SOURCE.intersection(path.relative_to(project_dir).parts)
    )


def recorded(settings: Settings) -> str | None:
    try:
        return json.loads(_file(settings).read_text()).get("fingerprint")
    except (OSError, ValueError):
        return None


def record(settings: Settings, fingerprint: str) -> None:
    path = _file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"fingerprint": fingerprint}))


def forget(settings: Settings) -> None:
    _file(settings).unlink(missing_ok=True)


def _file(settings: Settings) -> Path:
    return settings.home / "dbt" / FINGERPRINT_FILE


def package_version(package: str) -> str:
    """The installed version of a package, or "absent": what a build's reuse of earlier work depends on."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"
