"""Lake → the local DuckDB warehouse, file by file, with Snowflake-like load history.

Each Parquet file loads in one transaction together with its row in `RAW._LOAD_HISTORY`, so a crash never
leaves half a file or a file without its history. A file already loaded with the same sha256 is skipped; a
file whose bytes changed (its date was extracted again) replaces the rows it loaded before. Files that are not
Parquet or do not have the table's columns and types move to the lake's `quarantine/`, and the rest still load.
The warehouse file is opened for the step and closed after it: DuckDB allows one writer per file.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import suppress
from datetime import UTC, datetime

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.errors import first_line
from pipeline.extract.schemas import TABLE_SCHEMAS, schema_problems
from pipeline.lake import Lake, sha256_hex
from pipeline.load.plan import plan_load
from pipeline.load.report import LoadReport, QuarantinedFile
from pipeline.load.validate import content_problems
from pipeline.naming import SOURCE_TABLES, WAREHOUSE_SCHEMAS
from pipeline.progress import Progress
from pipeline.rows import one_row
from pipeline.settings import DuckDBWarehouse, Settings
from pipeline.warehouse.duckdb import open_warehouse

HISTORY_TABLE = "RAW._LOAD_HISTORY"


def ensure_raw(con: duckdb.DuckDBPyConnection) -> None:
    """Create the four warehouse schemas, the RAW tables and the load history, if missing."""
    for schema in WAREHOUSE_SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for table in SOURCE_TABLES:
        con.register("empty_table", TABLE_SCHEMAS[table].empty_table())
        con.execute(
            f'CREATE TABLE IF NOT EXISTS RAW."{table}" AS '
            "SELECT *, NULL::VARCHAR AS _source_file, NULL::TIMESTAMP AS _loaded_at FROM empty_table"
        )
        con.unregister("empty_table")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {HISTORY_TABLE} ("
        " file VARCHAR NOT NULL, table_name VARCHAR NOT NULL, sha256 VARCHAR NOT NULL,"
        " rows BIGINT NOT NULL, loaded_at TIMESTAMP NOT NULL)"
    )


def loaded_checksums(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """file → sha256 of its most recent load."""
    rows = con.execute(f"SELECT file, arg_max(sha256, loaded_at) FROM {HISTORY_TABLE} GROUP BY file").fetchall()
    return dict(rows)


def load_duckdb(
    settings: Settings,
    extract_date: str | None,
    progress: Progress | None = None,
    tables: Sequence[str] = SOURCE_TABLES,
) -> LoadReport:
    started = time.perf_counter()
    lake = Lake.from_settings(settings.lake)
    assert isinstance(settings.warehouse, DuckDBWarehouse)  # the caller dispatched on the warehouse kind
    report = LoadReport(warehouse=str(settings.warehouse.path), extract_date=extract_date)
    with open_warehouse(settings) as con:
        plan = plan_load(lake, tables, extract_date)
        report.unfinished, report.unknown = plan.unfinished, plan.unknown
        files = plan.files
        ensure_raw(con)
        history = loaded_checksums(con)
        for done, (table, key) in enumerate(files):
            if progress:
                progress(f"load {table}", done, len(files))
            _load_one(con, lake, report, table, key, history.get(key))
    if progress:
        progress("load done", len(files), len(files))
    report.seconds = time.perf_counter() - started
    return report


def _load_one(
    con: duckdb.DuckDBPyConnection, lake: Lake, report: LoadReport, table: str, key: str, loaded_sha: str | None
) -> None:
    outcome = report.table(table)
    outcome.files_seen += 1
    data = lake.read_bytes(key)
    sha256 = sha256_hex(data)
    if sha256 == loaded_sha:
        outcome.files_skipped += 1
        return
    try:
        arrow = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as exc:
        reason = f"not a readable Parquet file ({first_line(exc)})"
        outcome.quarantined.append(QuarantinedFile(key, lake.quarantine(key), reason))
        return
    problems = schema_problems(table, arrow.schema)
    if problems:
        reason = f"not a {table} file: {'; '.join(problems)}"
        outcome.quarantined.append(QuarantinedFile(key, lake.quarantine(key), reason))
        return
    problems = content_problems(table, arrow)
    if problems:
        reason = f"rows RAW.{table} cannot take: {'; '.join(problems)}"
        outcome.quarantined.append(QuarantinedFile(key, lake.quarantine(key), reason))
        return
    _insert_file(con, table, key, sha256, arrow, replace=loaded_sha is not None)
    outcome.files_loaded += 1
    outcome.rows_loaded += arrow.num_rows


def _insert_file(
    con: duckdb.DuckDBPyConnection, table: str, key: str, sha256: str, arrow: pa.Table, *, replace: bool
) -> None:
    """Rows of one file and its history row, all or nothing."""
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    con.register("lake_file", arrow)
    con.begin()
    try:
        if replace:  # the file was extracted again: its new bytes replace the rows its old bytes loaded
            con.execute(f'DELETE FROM RAW."{table}" WHERE _source_file = ?', [key])
        con.execute(
            f'INSERT INTO RAW."{table}" BY NAME '
            "SELECT *, ?::VARCHAR AS _source_file, ?::TIMESTAMP AS _loaded_at FROM lake_file",
            [key, loaded_at],
        )
        history_row = [key, table, sha256, arrow.num_rows, loaded_at]
        con.execute(f"INSERT INTO {HISTORY_TABLE} VALUES (?, ?, ?, ?, ?)", history_row)
        con.commit()
    except BaseException:
        # After a failed write (disk full) DuckDB may have ended the transaction itself: a failing rollback must
        # not hide the real error behind "cannot rollback - no transaction is active".
        with suppress(duckdb.Error):
            con.rollback()
        raise
    finally:
        con.unregister("lake_file")


def layer_counts(settings: Settings) -> dict[str, dict[str, int]]:
    """Rows per table (or view) per warehouse schema; empty when the warehouse file does not exist yet."""
    warehouse = settings.warehouse
    if not isinstance(warehouse, DuckDBWarehouse) or not warehouse.path.exists():
        return {}
    counts: dict[str, dict[str, int]] = {}
    with open_warehouse(settings, read_only=True) as con:
        relations = con.execute(
            "SELECT upper(table_schema), table_name FROM information_schema.tables"
            " WHERE upper(table_schema) IN ('RAW', 'STAGING', 'CORE', 'MARTS') AND NOT starts_with(table_name, '_')"
            " ORDER BY 1, 2"
        ).fetchall()
        for schema, name in relations:
            (rows,) = one_row(con.execute(f'SELECT count(*) FROM {schema}."{name}"'))
            counts.setdefault(schema, {})[name] = rows
    return counts
