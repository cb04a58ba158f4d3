"""Extract: a full snapshot of each source table → one Parquet file per table in the lake, plus a manifest.

Files land at `lake_contract.part_key(table, date)`, ordered by primary key and cast to the fixed schemas in
`schemas.py`, so identical data gives identical bytes (and checksums). All tables are read in one REPEATABLE READ
transaction: the six files are one consistent picture of the source. The manifest (`lake_contract.Manifest`) is
written last; a partition without a manifest is an extraction that did not finish.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import adbc_driver_postgresql.dbapi as adbc
import pyarrow as pa

from pipeline.errors import ShopstreamError, first_line
from pipeline.extract.schemas import JSON_COLUMNS, TABLE_SCHEMAS, schema_as_json
from pipeline.lake import Lake, WrittenFile
from pipeline.lake_contract import (
    Manifest,
    ManifestFile,
    part_key,
    read_table_entry,
    validate_date,
    validate_tables,
    write_manifest,
    write_table_entry,
)
from pipeline.naming import SOURCE_TABLES
from pipeline.progress import Progress
from pipeline.settings import Settings
from pipeline.source import source_dsn
from pipeline.source.database import describe, open_connection


@dataclass(frozen=True)
class ExtractedTable:
    table: str
    key: str
    rows: int
    size: int
    sha256: str
    seconds: float


@dataclass
class ExtractReport:
    extract_date: str
    lake_uri: str
    manifest_key: str = ""
    tables: list[ExtractedTable] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(t.rows for t in self.tables)

    @property
    def rows(self) -> dict[str, int]:
        return {t.table: t.rows for t in self.tables}


def snapshot_query(table: str) -> str:
    """SELECT of the table's columns in schema order; numerics and JSONB travel as text, then are cast."""
    schema = TABLE_SCHEMAS[table]
    columns = []
    for f in schema:
        as_text = pa.types.is_decimal(f.type) or f.name in JSON_COLUMNS.get(table, set())
        columns.append(f'"{f.name}"::text AS "{f.name}"' if as_text else f'"{f.name}"')
    return f'SELECT {", ".join(columns)} FROM "{table}" ORDER BY "id"'


def read_snapshot(cursor, table: str) -> pa.Table:
    cursor.execute(snapshot_query(table))
    raw = cursor.fetch_arrow_table()
    schema = TABLE_SCHEMAS[table]
    # Drop driver metadata and extension types, then cast to the fixed schema.
    columns = [_storage(raw.column(i)).cast(f.type) for i, f in enumerate(schema)]
    return pa.Table.from_arrays(columns, schema=schema)


def _storage(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if isinstance(column.type, pa.ExtensionType):
        return pa.chunked_array([chunk.storage for chunk in column.chunks], type=column.type.storage_type)
    return column


def extract(
    settings: Settings,
    extract_date: str | None = None,
    progress: Progress | None = None,
    tables: Sequence[str] | None = None,
) -> ExtractReport:
    """Snapshot the six source tables into the lake for `extract_date` and write the run's manifest.

    With `tables` (a subset, as Airflow's one-task-per-table does) only those tables are read, each gets its own
    table manifest, and the run's manifest is left to `publish_manifest` once every table is there: tasks for
    different tables may run at the same time and never write the same file.
    """
    extract_date = validate_date(extract_date)
    selected = SOURCE_TABLES if tables is None else validate_tables(tables)
    lake = Lake.from_settings(settings.lake)
    lake.remove_stale_temporaries()  # what killed or disk-full extractions left behind
    report = ExtractReport(extract_date=extract_date, lake_uri=lake.uri)
    started = time.perf_counter()
    # Encoding and publishing one table's Parquet overlaps with fetching the next (pyarrow releases the GIL).
    with _connect(source_dsn(settings)) as conn, conn.cursor() as cursor, ThreadPoolExecutor(1) as writer:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        pending: list[tuple[str, str, int, float, Future[tuple[WrittenFile, float]]]] = []
        for done, table in enumerate(selected):
            if progress:
                progress(f"extract {table}", done, len(selected))
            table_started = time.perf_counter()
            try:
                snapshot = read_snapshot(cursor, table)
            except adbc.Error as exc:
                raise ShopstreamError(f"cannot read source table {table}: {first_line(exc)}") from exc
            key = part_key(table, extract_date)
            published = writer.submit(_write_timed, lake, key, snapshot)
            pending.append((table, key, snapshot.num_rows, table_started, published))
        conn.rollback()  # read-only snapshot: nothing to commit
        for table, key, rows, table_started, future in pending:
            written, finished = future.result()
            seconds = finished - table_started  # this table's fetch + publish, not the wait for later tables
            report.tables.append(ExtractedTable(table, key, rows, written.size, written.sha256, seconds))
    if progress:
        progress("extract done", len(selected), len(selected))
    if tables is None:
        report.manifest_key = write_manifest(lake, Manifest(extract_date, manifest_entries(report)))
    else:
        for entry in manifest_entries(report):
            write_table_entry(lake, extract_date, entry)
    report.seconds = time.perf_counter() - started
    return report


def _write_timed(lake: Lake, key: str, snapshot: pa.Table) -> tuple[WrittenFile, float]:
    """Publish one table and note when it was done."""
    return lake.write_parquet(key, snapshot), time.perf_counter()


def publish_manifest(settings: Settings, extract_date: str) -> str:
    """Write the run's manifest from the table manifests of `extract_date`, once all six tables are extracted.

    Until then the date stays an unfinished extraction (no manifest), exactly as with a one-shot `extract`.
    """
    extract_date = validate_date(extract_date)
    lake = Lake.from_settings(settings.lake)
    entries = {table: read_table_entry(lake, extract_date, table) for table in SOURCE_TABLES}
    missing = [table for table, entry in entries.items() if entry is None]
    if missing:
        raise ShopstreamError(
            f"extraction of {extract_date} is not finished: no {', '.join(missing)} in {lake.uri}; "
            f"extract them first (e.g. `shopstream extract --date {extract_date}`)"
        )
    return write_manifest(lake, Manifest(extract_date, tuple(entry for entry in entries.values() if entry)))


def manifest_entries(report: ExtractReport) -> tuple[ManifestFile, ...]:
    """The manifest entries of the tables an extraction wrote, with their fixed schemas."""
    return tuple(
        ManifestFile(
            table=t.table,
            key=t.key,
            rows=t.rows,
            bytes=t.size,
            sha256=t.sha256,
            schema=schema_as_json(TABLE_SCHEMAS[t.table]),
        )
        for t in report.tables
    )


def _connect(dsn: str) -> adbc.Connection:
    # psycopg first: it has a connect timeout and one-line errors that never show the password.
    with open_connection(dsn):
        pass
    try:
        return adbc.connect(dsn)
    except adbc.Error as exc:
        raise ShopstreamError(f"cannot open an Arrow connection to PostgreSQL at {describe(dsn)}") from exc
