"""What the Airflow DAG's tasks call, one function per task, plus starting Airflow locally.

Every task function takes the stack's name and resolves its settings itself, opens what it needs (PostgreSQL,
the lake, the warehouse) and closes it before returning: DuckDB allows one writer per file, and `dag.test()` runs
every task in one process. Return values are small JSON-friendly dicts, so Airflow can keep them as XComs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from pipeline import source
from pipeline.errors import ConfigError, QuarantinedFilesError, ShopstreamError
from pipeline.naming import DEFAULT_STACK, is_live_mart
from pipeline.settings import ENV_HOME, ENV_WAREHOUSE, Settings, is_local_stack, resolve_settings, shopstream_home

REPO = Path(__file__).resolve().parents[1]
DAGS_FOLDER = REPO / "dags"
DBT_PROJECT_DIR = REPO / "dbt"
ENV_STACK = "SHOPSTREAM_STACK"
ENV_DBT_MANIFEST = "SHOPSTREAM_DBT_MANIFEST"  # where the DAG reads the dbt manifest (default: dbt/target/)
STACK_VARIABLE = "shopstream_stack"  # the Airflow Variable naming the stack the DAG runs on
WAREHOUSE_POOL = "shopstream_warehouse"  # Airflow pool of the tasks that write the warehouse
DEFAULT_PARALLELISM = 4  # task slots: enough for the parallel extracts, small enough for a laptop
AIRFLOW_HOST = "127.0.0.1"
AIRFLOW_PORT = 8080


def default_stack() -> str:
    return os.environ.get(ENV_STACK) or DEFAULT_STACK


def stack_settings(stack: str) -> Settings:
    return resolve_settings(stack)


# -- task callables ------------------------------------------------------------------------------------------------
def ensure_source(stack: str, scale: float = 0.1, seed: int | None = None) -> dict:
    """Start the stack's source (embedded PostgreSQL) and fill it with demo data when it is empty."""
    from pipeline.run import generate_if_empty
    from pipeline.source.database import describe

    settings = stack_settings(stack)
    dsn = source.up(settings)
    generated = generate_if_empty(settings, dsn, scale, seed)
    return {"source": describe(dsn), "generated_rows": sum(generated.values()) if generated else 0}


def extract_table(stack: str, extract_date: str, table: str) -> dict:
    """Snapshot one source table into the lake for `extract_date` (its own table manifest, no run manifest)."""
    from pipeline.extract import extract

    report = extract(stack_settings(stack), extract_date, tables=[table])
    (extracted,) = report.tables
    return {"table": table, "key": extracted.key, "rows": extracted.rows, "sha256": extracted.sha256}


def publish_manifest(stack: str, extract_date: str) -> str:
    """Mark the date's extraction finished once every table is in the lake."""
    from pipeline.extract import publish_manifest as publish

    return publish(stack_settings(stack), extract_date)


def load_table(stack: str, extract_date: str, table: str) -> dict:
    """Load one table's files of `extract_date` into RAW; a quarantined file fails the task (after the rest loaded)."""
    from pipeline.load import load

    report = load(stack_settings(stack), extract_date, tables=[table])
    outcome = report.table(table)
    if outcome.quarantined:
        reasons = "; ".join(f"{q.key}: {q.reason}" for q in outcome.quarantined)
        raise QuarantinedFilesError(f"{len(outcome.quarantined)} {table} file(s) quarantined: {reasons}")
    return {
        "table": table,
        "files_loaded": outcome.files_loaded,
        "files_skipped": outcome.files_skipped,
        "rows_loaded": outcome.rows_loaded,
    }


def export_dbt_env(stack: str) -> dict[str, str]:
    """Put the stack's dbt profile variables into this process's environment, for the dbt Cosmos starts next."""
    from pipeline.transform import dbt_env

    env = dbt_env(stack_settings(stack))
    os.environ.update(env)
    return env


def release_dbt_connections() -> None:
    """Close the DuckDB file dbt-duckdb keeps open in-process, so the next task (same process under `dag.test()`)
    can open the warehouse."""
    connections = sys.modules.get("dbt.adapters.duckdb.connections")
    if connections is None:
        return
    manager = connections.DuckDBConnectionManager
    with manager._LOCK:
        if manager._ENV is not None:
            manager._ENV.close()
            manager._ENV = None


def build_dbt(stack: str) -> str:
    """`dbt build` of the whole project, as `shopstream transform` runs it; fails when a model or test fails."""
    from pipeline.run import describe_transform, transform

    report = transform(stack_settings(stack))
    if report is None:
        raise ShopstreamError("dbt project not found next to the pipeline")
    if report.failed:
        raise ShopstreamError(f"dbt build failed: {describe_transform(report)}")
    return describe_transform(report)


def generate_docs(stack: str) -> str:
    """Generate the dbt documentation site; the path of its index.html."""
    from pipeline.transform import docs

    return str(docs(stack_settings(stack)))


def summarize(stack: str, extract_date: str) -> dict:
    """Rows per layer after the run; fails when a mart is empty (the run produced nothing to look at)."""
    from pipeline.run import stack_status

    status = stack_status(stack_settings(stack))
    marts = status.warehouse_rows.get("MARTS", {})
    summary = {
        "stack": stack,
        "extract_date": extract_date,
        "lake_date": status.lake_date,
        "raw_rows": status.warehouse_rows.get("RAW", {}),
        "mart_rows": marts,
        "warehouse": status.warehouse,
        "notes": status.notes,
    }
    empty = sorted(name for name, rows in marts.items() if rows == 0 and not is_live_mart(name))
    if empty:
        raise ShopstreamError(f"stack {stack!r}: empty marts after the run: {', '.join(empty)}")
    return summary


def record_dag_run(stack: str, dag_id: str, started_at: datetime | None, error: str | None = None) -> bool:
    """Append the DAG run to the stack's run history (success, or the failed task's error)."""
    from pipeline.run import stack_status
    from pipeline.runs import RunRecord, record

    settings = stack_settings(stack)
    run = RunRecord(origin="airflow", command=dag_id)
    if started_at is not None:
        run.started_at = started_at.astimezone(UTC).replace(tzinfo=None)
    run.finish(0 if error is None else 1, error)
    run.seconds = (datetime.now(UTC).replace(tzinfo=None) - run.started_at).total_seconds()
    if error is None:
        run.layer_rows = stack_status(settings).warehouse_rows
    return record(settings, run)


# -- dbt project for Cosmos ----------------------------------------------------------------------------------------
def dbt_executable() -> Path:
    """The dbt next to this interpreter (the virtualenv's), else the one on PATH."""
    beside = Path(sys.executable).with_name("dbt")
    if beside.exists():
        return beside
    if found := shutil.which("dbt"):
        return Path(found)
    raise ConfigError("dbt is not installed: run `make install-all`")


def dbt_manifest_path() -> Path:
    return Path(os.environ.get(ENV_DBT_MANIFEST) or DBT_PROJECT_DIR / "target" / "manifest.json")


def dbt_target(stack: str) -> str:
    """The dbt profile target of a stack, decided without resolving its settings (cheap enough for DAG parsing)."""
    if os.environ.get(ENV_WAREHOUSE, "").lower() == "snowflake" or not is_local_stack(stack):
        return "snowflake"
    return "local"


def parse_dbt_project(manifest: Path | None = None) -> Path:
    """`dbt parse` into the manifest's folder: the DAG renders the dbt task group from it without a database."""
    manifest = manifest or dbt_manifest_path()
    target_path = manifest.parent
    command = [
        str(dbt_executable()), "parse",
        "--project-dir", str(DBT_PROJECT_DIR),
        "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target-path", str(target_path),
        "--log-path", str(target_path / "logs"),
        "--quiet",
    ]  # fmt: skip
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    result = subprocess.run(command, env=env, cwd=DBT_PROJECT_DIR, capture_output=True, text=True, check=False)
    produced = target_path / "manifest.json"
    if result.returncode != 0 or not produced.exists():
        reason = next(iter((result.stdout + result.stderr).strip().splitlines()[-1:]), "no output")
        raise ShopstreamError(f"dbt parse failed ({reason}); see {target_path / 'logs'}")
    if produced != manifest:
        produced.replace(manifest)
    return manifest


# -- Airflow on this machine ---------------------------------------------------------------------------------------
def airflow_home(settings: Settings) -> Path:
    return settings.home / "airflow"


def airflow_environment(settings: Settings, port: int = AIRFLOW_PORT, parallelism: int = DEFAULT_PARALLELISM) -> dict:
    """Environment of a local Airflow for the stack: its own AIRFLOW_HOME, this repo's DAGs, no examples."""
    return {
        "AIRFLOW_HOME": str(airflow_home(settings)),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": str(parallelism),
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": str(parallelism),
        "AIRFLOW__API__HOST": AIRFLOW_HOST,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://{AIRFLOW_HOST}:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{AIRFLOW_HOST}:{port}/execution/",
        # A laptop's first requests to a cold API server can exceed Airflow's 5 s default and fail the task.
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "30",
        ENV_HOME: str(shopstream_home()),
        ENV_STACK: settings.stack,
        ENV_DBT_MANIFEST: str(dbt_manifest_path()),
        # `airflow standalone` starts its scheduler, API server, ... as a bare `airflow` found on PATH: this
        # virtualenv's bin folder comes first, so it works without activating the virtualenv.
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }


def airflow_command(name: str) -> list[str]:
    beside = Path(sys.executable).with_name(name)
    if beside.exists():
        return [str(beside)]
    raise ConfigError("Airflow is not installed in this virtualenv: run `make install-all`")


def prepare_airflow(settings: Settings, env: dict[str, str]) -> None:
    """Parse the dbt project, migrate Airflow's metadata database and create the warehouse pool."""
    airflow_home(settings).mkdir(parents=True, exist_ok=True)
    parse_dbt_project(Path(env[ENV_DBT_MANIFEST]))
    full_env = {**os.environ, **env}
    airflow = airflow_command("airflow")
    _run_airflow([*airflow, "db", "migrate"], full_env, "airflow db migrate")
    # DuckDB has one writer: one slot serialises loads and dbt; raise it for a cloud warehouse.
    slots = "1" if settings.warehouse.kind == "duckdb" else str(DEFAULT_PARALLELISM)
    description = "tasks that write the ShopStream warehouse"
    _run_airflow([*airflow, "pools", "set", WAREHOUSE_POOL, slots, description], full_env, "airflow pools set")


def admin_password_file(settings: Settings) -> Path:
    return airflow_home(settings) / "simple_auth_manager_passwords.json.generated"


def _run_airflow(command: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = " ".join((result.stderr or result.stdout).strip().splitlines()[-1:])
        raise ShopstreamError(f"{what} failed: {tail}")
