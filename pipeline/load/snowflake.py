"""Load one extraction date from the lake into Snowflake's RAW schema with COPY INTO.

The stack's external stage (`<DB>.RAW.LAKE_STAGE`) points at `<lake>/raw/`; each file of the date's manifest is
copied from `@<stage>/<prefix>/dt=<date>/` on the stack's LOADING warehouse. Nothing is truncated: Snowflake's
load metadata skips a file it loaded before, so a rerun adds 0 rows. With ON_ERROR = CONTINUE a bad row is
skipped, the file's good rows load, and every rejected row is written to RAW._LOAD_ERRORS (file, row, column,
error) and counted in the step's report. A file Snowflake refuses as a whole (a data error that aborts the
statement) is recorded there too, with its first error, and the other files still load. Right after `pulumi up`
the lake's IAM role may not be assumable yet: a COPY failing for that reason is retried with backoff (retry.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from pipeline.errors import NothingToLoadError, ShopstreamError, first_line
from pipeline.extract.schemas import TABLE_SCHEMAS
from pipeline.lake import Lake
from pipeline.lake_contract import finished_dates, read_manifest, stage_path
from pipeline.load import snowflake_sql as sql
from pipeline.load.report import LoadReport
from pipeline.load.retry import is_role_propagation_error, retry_while_role_propagates
from pipeline.naming import SOURCE_TABLES
from pipeline.progress import Progress
from pipeline.settings import Settings, SnowflakeWarehouse
from pipeline.warehouse.snowflake import connect, snowflake_warehouse

# Snowflake numbers data errors (a value that does not convert, a NULL in a NOT NULL column) 100000-100999;
# any other failure (missing stage, no privilege) is a setup problem that stops the load.
_DATA_ERRORS = range(100000, 101000)


@dataclass(frozen=True)
class RejectedRow:
    table: str
    file: str
    row: int | None
    column: str | None
    error: str
    record: str | None = None  # the rejected record as Snowflake shows it, when known


@dataclass
class FileLoad:
    table: str
    key: str
    status: str  # LOADED, PARTIALLY_LOADED, LOAD_SKIPPED (loaded before) or LOAD_FAILED
    rows_loaded: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)


@dataclass
class SnowflakeLoad:
    """What one load did, file by file."""

    extract_date: str
    files: list[FileLoad] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows_loaded(self) -> dict[str, int]:
        loaded: dict[str, int] = {}
        for f in self.files:
            loaded[f.table] = loaded.get(f.table, 0) + f.rows_loaded
        return loaded

    @property
    def rejected(self) -> list[RejectedRow]:
        return [row for f in self.files for row in f.rejected]

    @property
    def skipped_files(self) -> list[str]:
        return [f.key for f in self.files if f.status == "LOAD_SKIPPED"]


def load_snowflake(
    settings: Settings,
    extract_date: str | None,
    lake: Lake,
    progress: Progress | None = None,
    tables: Sequence[str] = SOURCE_TABLES,
) -> LoadReport:
    """Load `extract_date` (or, without a date, every extracted date) from the lake into RAW on Snowflake."""
    dates = [extract_date] if extract_date else finished_dates(lake)
    if not dates:
        raise NothingToLoadError(f"the lake {lake.uri} holds no finished extraction: run `shopstream extract` first")
    report = LoadReport(warehouse=f"Snowflake {snowflake_warehouse(settings).database}", extract_date=extract_date)
    for date in dates:
        load = copy_partitions(settings, date, lake, progress, tables)
        report.seconds += load.seconds
        for f in load.files:
            table = report.table(f.table)
            table.files_seen += 1
            table.files_loaded += f.status in ("LOADED", "PARTIALLY_LOADED")
            table.files_skipped += f.status == "LOAD_SKIPPED"
            table.rows_loaded += f.rows_loaded
            table.bad_rows += [_describe(row) for row in f.rejected]
    return report


def _describe(row: RejectedRow) -> str:
    where = (
        row.file + (f" row {row.row}" if row.row is not None else "") + (f" column {row.column}" if row.column else "")
    )
    return f"{where}: {row.error}"


def copy_partitions(
    settings: Settings,
    extract_date: str,
    lake: Lake,
    progress: Progress | None = None,
    tables: Sequence[str] = SOURCE_TABLES,
) -> SnowflakeLoad:
    """Create the RAW tables if needed and COPY every file of the date's manifest into them."""
    warehouse = snowflake_warehouse(settings)
    files = manifest_files(lake, extract_date)
    result = SnowflakeLoad(extract_date=extract_date)
    started = time.perf_counter()
    with connect(settings, "loading") as connection:
        cursor = connection.cursor()
        run = _Runner(cursor)
        run(sql.use_warehouse(warehouse.warehouses["loading"]))
        # Create only what is missing: re-running CREATE on an existing table is a no-op on Snowflake but
        # wipes the table's load history on fakesnow, which would make a rerun load every file again.
        existing = {name.upper() for (name,) in run(sql.existing_raw_tables(warehouse.database))}
        if sql.LOAD_ERRORS_TABLE not in existing:
            run(sql.create_load_errors_table(warehouse.database))
        for done, table in enumerate(tables):
            if progress:
                progress(f"load {table}", done, len(tables))
            if table.upper() not in existing:
                run(sql.create_raw_table(table, TABLE_SCHEMAS[table], warehouse.database))
            for key in files.get(table, []):
                on_retry = _announce_wait(progress, table, done, len(tables))
                outcome = _copy_file_when_role_ready(run, warehouse, table, key, on_retry)
                _record_rejections(run, warehouse.database, outcome, extract_date)
                result.files.append(outcome)
    if progress:
        progress("load done", len(tables), len(tables))
    result.seconds = time.perf_counter() - started
    return result


def manifest_files(lake: Lake, extract_date: str) -> dict[str, list[str]]:
    """Lake keys of the date's published files by table; a date without a manifest did not finish extracting."""
    manifest = read_manifest(lake, extract_date)
    if manifest is None:
        raise NothingToLoadError(
            f"no finished extraction for {extract_date} in {lake.uri}: run `shopstream extract --date {extract_date}`"
        )
    return manifest.keys_by_table()


class _Runner:
    """Runs statements on one cursor and returns all rows; remembers the last query id and column names."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor
        self.query_id: str | None = None
        self.columns: list[str] = []

    def __call__(self, statement: str, params: tuple | None = None) -> list[tuple]:
        self.cursor.execute(statement, params)
        self.query_id = self.cursor.sfqid
        self.columns = [d[0].lower() for d in self.cursor.description or []]
        return self.cursor.fetchall()


def _announce_wait(progress: Progress | None, table: str, done: int, total: int) -> Callable[[int, float], None]:
    def announce(attempt: int, delay: float) -> None:
        if progress:
            progress(f"load {table}: lake role not assumable yet (IAM), retry in {delay:.0f} s", done, total)

    return announce


def _copy_file_when_role_ready(
    run: _Runner, warehouse: SnowflakeWarehouse, table: str, key: str, on_retry: Callable[[int, float], None]
) -> FileLoad:
    """COPY one file, waiting out IAM propagation of the lake role right after `pulumi up`."""
    return retry_while_role_propagates(
        lambda: _copy_file(run, warehouse.database, warehouse.stage, warehouse.parquet_format, table, key),
        f"COPY INTO RAW.{table.upper()} from {key}",
        on_retry=on_retry,
    )


def _copy_file(run: _Runner, database: str, stage: str, file_format: str, table: str, key: str) -> FileLoad:
    """COPY one file and stamp its rows in one transaction; a file refused as a whole is reported, not raised."""
    from snowflake.connector.errors import ProgrammingError

    statement = sql.copy_into(table, database, stage, stage_path(key), [PurePosixPath(key).name], file_format)
    run("BEGIN")
    try:
        rows = [dict(zip(run.columns, row, strict=False)) for row in run(statement)]
        copy_id = run.query_id
        loaded = sum(int(r.get("rows_loaded") or 0) for r in rows)
        if loaded:
            run(sql.stamp_rows(table, database), (key,))
        run("COMMIT")
    except ProgrammingError as exc:
        run("ROLLBACK")
        if is_role_propagation_error(exc):
            raise  # retried by the caller: nothing of this file was kept
        if exc.errno not in _DATA_ERRORS:
            raise ShopstreamError(f"COPY INTO RAW.{table.upper()} from {key} failed: {first_line(exc)}") from None
        error = RejectedRow(table, key, None, None, first_line(exc))
        return FileLoad(table, key, "LOAD_FAILED", rejected=[error])
    outcome = FileLoad(table, key, _status(rows), rows_loaded=loaded)
    if any(int(r.get("errors_seen") or 0) and r.get("status") != "LOAD_SKIPPED" for r in rows):
        outcome.rejected = _rejected_rows(run, database, table, key, copy_id, rows)
    return outcome


def _status(rows: list[dict]) -> str:
    # Snowflake answers a COPY with nothing new as one row "Copy executed with 0 files processed."
    statuses = {str(r.get("status", "")) for r in rows}
    if not rows or statuses <= {"LOAD_SKIPPED"} or "0 files processed" in " ".join(statuses):
        return "LOAD_SKIPPED"
    return next(iter(statuses)) if len(statuses) == 1 else "PARTIALLY_LOADED"


def _rejected_rows(
    run: _Runner, database: str, table: str, key: str, copy_id: str | None, rows: list[dict]
) -> list[RejectedRow]:
    """Every row the COPY skipped (VALIDATE); if VALIDATE cannot tell, the COPY's own first error."""
    from snowflake.connector.errors import ProgrammingError

    if copy_id:
        try:
            return [
                RejectedRow(table, key, row_number, column, error, record)
                for _file, row_number, column, error, record in run(sql.rejected_rows(table, database, copy_id))
            ]
        except ProgrammingError:
            pass
    return [
        RejectedRow(table, key, r.get("first_error_line"), r.get("first_error_column_name"), str(r.get("first_error")))
        for r in rows
        if int(r.get("errors_seen") or 0)
    ]


def _record_rejections(run: _Runner, database: str, outcome: FileLoad, extract_date: str) -> None:
    for row in outcome.rejected:
        run(
            sql.insert_load_error(database),
            (row.table, row.file, row.row, row.column, row.error, row.record, extract_date),
        )
