"""The answer key of a stack: what its RAW tables and marts must hold, built with the reference road off to the side.

The key is the pipeline's own road (generate → extract → load → dbt) run on the stack's data variant in a scratch
folder: its own embedded PostgreSQL on a free port, its own lake directory and DuckDB file, deleted afterwards.
Keys built inside `one_server_for_keys()` (a class's) share one scratch PostgreSQL instead, a database each. The
student's stack is never touched. Keys are cached per cohort (`<keys dir>/<stack>.json`) and are canonical
JSON — sorted keys, no timestamps, money as fixed two-decimal text — so a key rebuilt from scratch is the same
bytes. A cached key is reused only while its seed, scale and the road's code (generator, schema, dbt project) are
unchanged.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pipeline.errors import ShopstreamError
from pipeline.grade.figures import MODEL_SCHEMAS, DuckDBReader, figure_columns, mart_figures, mart_rows, raw_counts
from pipeline.naming import DUCKDB_FILE, StackNames, is_live_mart
from pipeline.settings import DuckDBWarehouse, LakeSettings, Settings, SourceSettings, shopstream_home
from pipeline.source.server import free_port

KEY_FORMAT = 1
# The reference road's extraction date: partitions are named after it, no figure depends on it.
KEY_EXTRACT_DATE = "2000-01-01"
# dbt models only: the project's tests are the student's check (`data_tests`), not the key's.
KEY_BUILD_EXCLUDE = "resource_type:test resource_type:unit_test"

_ROOT = Path(__file__).resolve().parents[2]
# What the key depends on besides (seed, scale): a change here makes cached keys stale.
_ROAD = ("pipeline/generate", "pipeline/source/schema.sql", "dbt/models", "dbt/macros", "dbt/dbt_project.yml")

Key = dict[str, Any]


def default_keys_dir(cohort: str) -> Path:
    """Where keys of `cohort` are cached: `$SHOPSTREAM_HOME/grading/<cohort>/keys`."""
    return shopstream_home() / "grading" / cohort / "keys"


def key_path(keys_dir: Path, stack: str) -> Path:
    return Path(keys_dir) / f"{stack}.json"


def road_digest() -> str:
    """sha256 of the code that turns a seed into marts, so a key built by other code is never reused."""
    return files_digest(_ROAD)


def files_digest(entries: Iterable[str]) -> str:
    """sha256 of the repository files and folders `entries` (paths from the repository root), names included."""
    digest = hashlib.sha256()
    for entry in entries:
        path = _ROOT / entry
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if "__pycache__" in file.parts:
                continue
            digest.update(file.relative_to(_ROOT).as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def canonical_json(document: Key) -> str:
    return json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def read_key(path: Path) -> Key:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ShopstreamError(f"no answer key at {path}: build it with `shopstream grade key`") from None
    except json.JSONDecodeError as exc:
        raise ShopstreamError(f"answer key {path} is not valid JSON (line {exc.lineno}): rebuild it") from None


def ensure_key(stack: str, seed: int, scale: float, keys_dir: Path, *, rebuild: bool = False) -> Key:
    """The cached key of `stack` when it is current, else a freshly built one (written to the cache)."""
    path = key_path(keys_dir, stack)
    if path.exists() and not rebuild:
        cached = read_key(path)
        if _is_current(cached, stack, seed, scale):
            return cached
    key = build_key(stack, seed, scale)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(canonical_json(key))
    os.replace(tmp, path)
    return key


def _is_current(key: Key, stack: str, seed: int, scale: float) -> bool:
    wanted = {"format": KEY_FORMAT, "stack": stack, "seed": seed, "scale": scale, "road": road_digest()}
    return all(key.get(name) == value for name, value in wanted.items())


def build_key(stack: str, seed: int, scale: float) -> Key:
    """Run the reference road for (stack, seed, scale) in a scratch folder and read the key off its warehouse."""
    with one_server_for_keys() as server:  # outside a class's block: a server for this key alone
        settings = server.settings_for(stack)
        try:
            return _key_off_the_road(settings, server, seed, scale)
        finally:
            shutil.rmtree(server.root / stack, ignore_errors=True)


def _key_off_the_road(settings: Settings, server: _SharedServer, seed: int, scale: float) -> Key:
    from pipeline.extract import extract
    from pipeline.generate import generate
    from pipeline.load import load
    from pipeline.transform import build, prepared_project

    # Every scratch road's warehouse has the same catalog, as every local stack's: the project is parsed once per
    # process for all keys, in the background the first time, while the data is generated.
    parsed_project = prepared_project(settings)
    try:
        generate(server.up(settings), scale=scale, seed=seed)
        extract(settings, KEY_EXTRACT_DATE)
        report = load(settings, KEY_EXTRACT_DATE)
    finally:
        server.drop(settings)  # the data is in the warehouse now
    if report.quarantined:
        raise ShopstreamError(f"the reference road quarantined {len(report.quarantined)} file(s); key not built")
    build(settings, exclude=KEY_BUILD_EXCLUDE, prepared=parsed_project)
    assert isinstance(settings.warehouse, DuckDBWarehouse)  # the caller dispatched on the warehouse kind
    reader = DuckDBReader(str(settings.warehouse.path))
    try:
        return {
            "format": KEY_FORMAT,
            "stack": settings.stack,
            "seed": seed,
            "scale": scale,
            "road": road_digest(),
            **read_key_figures(reader),
        }
    finally:
        reader.close()


@contextlib.contextmanager
def one_server_for_keys() -> Iterator[_SharedServer]:
    """Keys built inside the block (in any thread) share one scratch PostgreSQL, a database each, instead of
    initialising and starting a server per key: that is about half of a small key's time. The server starts with
    the first key built (never, when every key is cached); when the last block using it ends (blocks nest, and
    overlap across threads), it is stopped and deleted with its folder."""
    global _shared_server, _shared_users
    with _SHARED_LOCK:
        server = _shared_server = _shared_server or _SharedServer()
        _shared_users += 1
    try:
        yield server
    finally:
        with _SHARED_LOCK:
            _shared_users -= 1
            last = _shared_users == 0
            if last:
                _shared_server = None
        if last:
            server.close()


class _SharedServer:
    """A scratch folder whose embedded PostgreSQL serves the keys of `one_server_for_keys`, started on first use."""

    def __init__(self) -> None:
        self.root = _scratch_folder()
        self.port = free_port()
        self._lock = threading.Lock()

    def settings_for(self, stack: str) -> Settings:
        """The stack's scratch road: the server (and dbt's files) in the shared folder, the lake and the warehouse
        in a folder of the stack's own."""
        return scratch_settings(stack, self.root, port=self.port, road=self.root / stack)

    def up(self, settings: Settings) -> str:
        """The stack's database, new and empty, on the shared server (started if this is the first key)."""
        from pipeline import source

        with self._lock:  # one first start; `up` itself serialises the stacks' databases and roles
            self.drop(settings)  # a stack keyed twice in one block starts from an empty database again
            return source.up(settings)

    def drop(self, settings: Settings) -> None:
        """The stack's database gone, if the server runs (once the key's data is in its warehouse, the server stays
        for the next key)."""
        from psycopg import sql

        from pipeline import source
        from pipeline.source.database import open_connection

        with contextlib.suppress(ShopstreamError), open_connection(source.admin_dsn(settings), autocommit=True) as conn:
            statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            conn.execute(statement.format(sql.Identifier(settings.source.database)))

    def close(self) -> None:
        from pipeline import source

        try:
            source.down(scratch_settings("answer-keys", self.root, port=self.port))
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


_shared_server: _SharedServer | None = None
_shared_users = 0  # blocks of `one_server_for_keys` open now
_SHARED_LOCK = threading.Lock()


def _scratch_folder() -> Path:
    scratch = Path(tempfile.mkdtemp(prefix="shopstream-key-"))
    scratch.chmod(0o755)  # as root the embedded server runs as a system user that must traverse this folder
    return scratch


def scratch_settings(stack: str, home: Path, *, port: int | None = None, road: Path | None = None) -> Settings:
    """A local stack under `home` with its own PostgreSQL port (`port`, else a free one): nothing shared with the
    real stack of that name. The lake and the warehouse go in `road` (default: `home`)."""
    names = StackNames(stack)
    road = road or home
    return Settings(
        stack=stack,
        origin="answer key (scratch road)",
        home=home,
        source=SourceSettings(database=names.postgres_database, port=port or free_port()),
        lake=LakeSettings(uri=str(road / "lake")),
        warehouse=DuckDBWarehouse(path=road / DUCKDB_FILE),
    )


def read_key_figures(reader: DuckDBReader) -> Key:
    """RAW rows per table, the models with their columns, and each mart's measures, breakdowns and figures."""
    models = reader.columns(MODEL_SCHEMAS)
    marts = {}
    for mart, columns in models.get("MARTS", {}).items():
        if is_live_mart(mart):  # what a stream produced, not the data variant: present, never scored
            continue
        rows = mart_rows(reader, mart, columns)
        measures, breakdowns = figure_columns(columns, rows)
        used = [*measures, *breakdowns]
        used_rows = [tuple(row[columns.index(name)] for name in used) for row in rows]
        marts[mart] = {
            "measures": measures,
            "breakdowns": breakdowns,
            "figures": mart_figures(used, used_rows, measures, breakdowns),
        }
    return {
        "raw_rows": {table: counts["ids"] for table, counts in raw_counts(reader).items()},
        "models": models,
        "marts": marts,
    }
