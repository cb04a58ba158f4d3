"""Journaled batches → warehouse RAW (through the load history: a file loads once) → live dbt models.

The batch's manifest lists its files and checksums; each file loads in one transaction with its load-history row,
so a crash between loading and marking the batch loaded in PostgreSQL only makes the next run skip the file.
On Snowflake, Snowpipe (declared in `infra/stream.py`) ingests the stream prefix; this loader serves DuckDB.
"""

from __future__ import annotations

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.errors import ShopstreamError, brief
from pipeline.lake import Lake, sha256_hex
from pipeline.lake_contract import ManifestFile
from pipeline.load.duckdb import HISTORY_TABLE, _insert_file, ensure_raw, open_warehouse
from pipeline.settings import DuckDBWarehouse, Settings
from pipeline.stream.tables import CANCELLATIONS_SCHEMA
from pipeline.transform import DBT_PROJECT_DIR, dbt_env, dbt_paths, prepared_project, runner

LIVE_MODELS = "path:models/live"
# What a refresh leaves out (see LiveRefresher): artifacts and the schema-wide relation cache. (The debug log is
# left out of every dbt command by the runner.)
REFRESH_FLAGS = ("--no-write-json", "--no-populate-cache")


def pending_batches(conn: psycopg.Connection) -> list[tuple[int, str]]:
    rows = conn.execute(
        "SELECT batch_no, manifest_key FROM stream_batches WHERE loaded_at IS NULL ORDER BY batch_no"
    ).fetchall()
    conn.commit()
    return rows


def load_pending(settings: Settings, conn: psycopg.Connection, lake: Lake, *, warehouse_must_exist: bool) -> int:
    """Load every journaled batch not loaded yet; returns the number of files loaded."""
    batches = pending_batches(conn)
    if not batches:
        return 0
    warehouse = settings.warehouse
    if not isinstance(warehouse, DuckDBWarehouse):
        raise ShopstreamError(
            f"stack {settings.stack!r} loads the stream with Snowpipe (auto-ingest on the stream prefix); "
            "run the stream against its DuckDB twin with SHOPSTREAM_WAREHOUSE=duckdb"
        )
    if warehouse_must_exist and not warehouse.path.exists():
        raise ShopstreamError(
            f"the warehouse {warehouse.path} disappeared; restore it (or `shopstream load`) and rerun"
        )
    entries: list[ManifestFile] = []
    for _, manifest_key in batches:
        manifest = lake.read_json(manifest_key)
        if manifest is None:
            raise ShopstreamError(f"batch manifest {lake.location(manifest_key)} is missing from the lake")
        where = lake.location(manifest_key)
        entries += [ManifestFile.from_json(doc, f"{where} file {n}") for n, doc in enumerate(manifest["files"])]
    loaded = 0
    with open_warehouse(settings) as con:
        ensure_raw(con)
        ensure_stream_raw(con)
        history = loaded_checksums_of(con, [entry.key for entry in entries])
        for entry in entries:
            if history.get(entry.key) == entry.sha256:
                continue
            data = lake.read_bytes(entry.key)
            if sha256_hex(data) != entry.sha256:
                raise ShopstreamError(f"{lake.location(entry.key)} does not match its batch manifest")
            arrow = pq.read_table(pa.BufferReader(data))
            _insert_file(con, entry.table, entry.key, entry.sha256, arrow, replace=entry.key in history)
            loaded += 1
    with conn.transaction():
        conn.execute(
            "UPDATE stream_batches SET loaded_at = clock_timestamp() WHERE batch_no = ANY(%s)",
            ([batch_no for batch_no, _ in batches],),
        )
    return loaded


def prepare_raw(settings: Settings) -> None:
    """The RAW tables the live models read, created if missing (a warehouse made by a nightly load has them)."""
    with open_warehouse(settings) as con:
        ensure_raw(con)
        ensure_stream_raw(con)


def loaded_checksums_of(con, keys: list[str]) -> dict[str, str]:
    """file → sha256 of its latest load, for these files only: the batch's lookup stays as small as the batch
    while the load history grows by a few files every few seconds."""
    if not keys:
        return {}
    rows = con.execute(
        f"SELECT file, arg_max(sha256, loaded_at) FROM {HISTORY_TABLE} WHERE file IN (SELECT unnest(?)) GROUP BY file",
        [keys],
    ).fetchall()
    return dict(rows)


def ensure_stream_raw(con) -> None:
    """RAW.order_cancellations: the one stream table that has no nightly counterpart."""
    con.register("empty_table", CANCELLATIONS_SCHEMA.empty_table())
    con.execute(
        'CREATE TABLE IF NOT EXISTS RAW."order_cancellations" AS '
        "SELECT *, NULL::VARCHAR AS _source_file, NULL::TIMESTAMP AS _loaded_at FROM empty_table"
    )
    con.unregister("empty_table")


class LiveRefresher:
    """Runs the incremental live models in this process, on the project parsed once.

    A refresh runs every few seconds, so every fixed cost of a dbt command counts (measured in docs/stream.md):
    - the parse is the transform's (`pipeline.transform.prepared_project`): made in the background when the stream
      starts, shared with every build of this process, and taken from the parse an earlier process saved for the
      same inputs, so a new stream on a new stack does not parse at all; no `dbt` process, no re-parse per batch;
    - only the live models are selected, and dbt neither writes manifest.json and run_results.json (about a
      second per run: the whole project's manifest, serialised every time) nor lists every warehouse schema to fill
      its relation cache (the three models look up their own relations);
    - the log file gets info, not debug: a debug log writes every statement and macro call of every run.
    Compiled SQL goes to its own folder (`target/stream`), apart from the nightly build's.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._prepared = prepared_project(settings)  # parsing starts now, while the stream recovers and captures
        target_path, log_path = dbt_paths(settings)
        (target_path / "stream").mkdir(parents=True, exist_ok=True)
        self._log_path = log_path / "dbt.log"
        self._args = [
            "run", "--select", LIVE_MODELS,
            "--project-dir", str(DBT_PROJECT_DIR),
            "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target", dbt_env(settings)["SHOPSTREAM_DBT_TARGET"],
            "--target-path", str(target_path / "stream"),
            "--log-path", str(log_path),
            *REFRESH_FLAGS,
        ]  # fmt: skip

    def refresh(self) -> float:
        """Run the live models; returns dbt's elapsed seconds."""
        manifest = self._prepared.manifest_for(self._settings, {})  # None if the parse failed: dbt parses, and says why
        # The runner lets go of the warehouse after the command: between batches the dashboard may read it.
        returned, errors = runner.invoke(self._args, dbt_env(self._settings), manifest=manifest)
        results = getattr(returned, "results", None)
        failed = [result.node.name for result in results or [] if result.status != "success"]
        if results is None or failed:
            reason = ", ".join(failed) or (brief(errors[-1]) if errors else f"see {self._log_path}")
            raise ShopstreamError(f"refreshing the live models failed: {' '.join(reason.split())}")
        return float(getattr(returned, "elapsed_time", 0.0) or 0.0)
