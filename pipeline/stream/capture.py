"""Change capture and micro-batches: PostgreSQL rows changed since the last batch → Parquet in the lake.

Why a watermark, not logical decoding: logical decoding needs `wal_level=logical`, a replication slot and a
replication-capable role — settings and privileges a student's managed PostgreSQL often does not grant, and a slot
that is forgotten retains WAL until the disk fills. The simulator instead logs every row it writes in
`stream_changes` within the same transaction, and the capture reads that log by a wall-clock watermark:

* **Safe upper bound.** A batch covers `[lower, upper)` where `upper` is the start of the oldest transaction that is
  still writing (from `pg_stat_activity`), or now. A change's `changed_at` is never earlier than its transaction's
  start, so no transaction can still commit a change below `upper`: commit order cannot skip a row.
* **Overlap.** `lower` is the previous `upper` minus an overlap, so changes that commit late anyway (a role that
  cannot see other sessions in `pg_stat_activity`, clock steps) are still picked up.
* **Key dedup.** The previous batch records the log rows it shipped inside the overlap (`tail_seqs`); they are
  skipped, and each row key appears once per batch with its current version.

Failure modes: a change committing later than the overlap after its write is missed (raise `overlap`); writes that
bypass the simulator (manual SQL) are not logged and not streamed; a row changed twice between batches ships only
its latest version. Every batch is journaled in `stream_batches` only after its files and manifest are published;
its file names depend on its number only, so a crash before the journal commit redoes the same names (overwriting,
atomically) and a crash after it loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg

from pipeline.errors import ShopstreamError
from pipeline.extract.schemas import schema_as_json
from pipeline.lake import Lake
from pipeline.lake_contract import ManifestFile
from pipeline.rows import one_row
from pipeline.stream.tables import (
    STREAM_PREFIX,
    STREAM_SCHEMAS,
    STREAM_TABLES,
    batch_file_key,
    batch_manifest_key,
    select_rows_sql,
    to_arrow,
)

DEFAULT_OVERLAP = timedelta(seconds=2)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

SAFE_UPPER_BOUND_SQL = """
SELECT least(clock_timestamp(), coalesce(
    (SELECT min(xact_start) FROM pg_stat_activity
      WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()),
    'infinity'::timestamptz))
"""


@dataclass
class Batch:
    """A published (and journaled) micro-batch."""

    batch_no: int
    lower: datetime
    upper: datetime
    manifest_key: str
    rows: dict[str, int]
    files: list[str]
    new_orders: dict[int, datetime] = field(default_factory=dict)  # order id → write time in PostgreSQL

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def last_batch(conn: psycopg.Connection) -> tuple[int, datetime, list[int]]:
    """(number, upper bound, tail seqs) of the latest journaled batch; (0, epoch, []) before the first."""
    row = conn.execute(
        "SELECT batch_no, upper_bound, tail_seqs FROM stream_batches ORDER BY batch_no DESC LIMIT 1"
    ).fetchone()
    conn.commit()
    return (0, EPOCH, []) if row is None else (row[0], row[1], list(row[2]))


def capture_batch(conn: psycopg.Connection, lake: Lake, overlap: timedelta = DEFAULT_OVERLAP) -> Batch | None:
    """Capture the changes since the last batch, publish them as the next batch, journal it; None when idle."""
    previous_no, previous_upper, previous_tail = last_batch(conn)
    batch_no = previous_no + 1
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")  # one picture of the log and the rows
        (upper,) = one_row(conn.execute(SAFE_UPPER_BOUND_SQL))
        lower = previous_upper - overlap if previous_no else EPOCH
        changes = conn.execute(
            "SELECT seq, table_name, row_id, changed_at FROM stream_changes"
            " WHERE changed_at >= %s AND changed_at < %s ORDER BY seq",
            (lower, upper),
        ).fetchall()
        shipped = set(previous_tail)
        fresh = [change for change in changes if change[0] not in shipped]
        if not fresh:
            return None
        keys: dict[str, set[int]] = {table: set() for table in STREAM_TABLES}
        for _, table, row_id, _ in fresh:
            keys[table].add(row_id)
        tables = {
            table: to_arrow(table, conn.execute(select_rows_sql(table), (sorted(ids),)).fetchall())
            for table, ids in keys.items()
            if ids
        }
        new_orders = _first_writes(conn, fresh)
    tail = [seq for seq, _, _, changed_at in changes if changed_at >= upper - overlap]
    day = (previous_upper if previous_no else upper).astimezone(UTC).date().isoformat()
    return _publish(
        conn, lake, batch_no, previous_upper if previous_no else lower, upper, day, tables, tail, new_orders
    )


def _first_writes(conn: psycopg.Connection, fresh: list[tuple]) -> dict[int, datetime]:
    """Orders created in this batch (their first log row is in it) → when they were written."""
    written_at = {seq: changed_at for seq, table, _, changed_at in fresh if table == "orders"}
    order_ids = sorted({row_id for _, table, row_id, _ in fresh if table == "orders"})
    if not order_ids:
        return {}
    firsts = conn.execute(
        "SELECT row_id, min(seq) FROM stream_changes WHERE table_name = 'orders' AND row_id = ANY(%s) GROUP BY row_id",
        (order_ids,),
    ).fetchall()
    return {order_id: written_at[seq] for order_id, seq in firsts if seq in written_at}


def _publish(
    conn: psycopg.Connection,
    lake: Lake,
    batch_no: int,
    lower: datetime,
    upper: datetime,
    day: str,
    tables: dict,
    tail: list[int],
    new_orders: dict[int, datetime],
) -> Batch:
    check_lake(lake)
    entries = []
    for table, arrow in tables.items():
        written = lake.write_parquet(batch_file_key(table, batch_no, day), arrow)
        entries.append(
            ManifestFile(
                table=table,
                key=written.key,
                rows=arrow.num_rows,
                bytes=written.size,
                sha256=written.sha256,
                schema=schema_as_json(STREAM_SCHEMAS[table]),
            )
        )
    manifest = {
        "batch_no": batch_no,
        "lower_bound": lower.isoformat(),
        "upper_bound": upper.isoformat(),
        "files": [entry.to_json() for entry in entries],
    }
    manifest_key = batch_manifest_key(batch_no)
    lake.write_json(manifest_key, manifest)  # last: a batch without a manifest is a batch that did not finish
    with conn.transaction():
        conn.execute(
            "INSERT INTO stream_batches (batch_no, lower_bound, upper_bound, tail_seqs, manifest_key, files, rows)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (batch_no, lower, upper, tail, manifest_key, len(entries), sum(e.rows for e in entries)),
        )
    return Batch(
        batch_no=batch_no,
        lower=lower,
        upper=upper,
        manifest_key=manifest_key,
        rows={e.table: e.rows for e in entries},
        files=[e.key for e in entries],
        new_orders=new_orders,
    )


def check_lake(lake: Lake) -> None:
    """A local lake whose folder vanished mid-stream is an error, not a folder to quietly recreate."""
    import pyarrow.fs as pafs

    local = isinstance(lake.filesystem, pafs.LocalFileSystem)
    if local and lake.filesystem.get_file_info(lake.root).type != pafs.FileType.Directory:
        raise ShopstreamError(f"the lake {lake.uri} disappeared; restore it (or `shopstream extract`) and rerun")


def ensure_lake(lake: Lake) -> None:
    """Create a local lake's folder at start (S3 buckets exist or fail on the first write)."""
    import pyarrow.fs as pafs

    if isinstance(lake.filesystem, pafs.LocalFileSystem):
        lake.filesystem.create_dir(f"{lake.root}/{STREAM_PREFIX}", recursive=True)
