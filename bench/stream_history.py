"""Refresh time as history grows: the live models refreshed on the first simulated day and on the Nth.

Both probes run the stream's own steps (simulate in PostgreSQL → capture to the lake → load into RAW → refresh the
live models in-process), a few batches of `batch_minutes` simulated minutes each: what a 5 s batch carries at
speed 60. Only the refresh is timed.

Between the probes the warehouse is fast-forwarded by N-1 simulated days: the first probe's stream rows are copied
into RAW again and again (new ids, times shifted by the span they cover) until they fill N-1 days, and one refresh
takes them into the live marts. Simulating those days minute by minute in PostgreSQL would take about 0.1 s per
simulated minute here (half an hour for ten days); the refresh reads only the warehouse, so it sees the same volume.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta

from pipeline.lake import Lake
from pipeline.load.duckdb import open_warehouse
from pipeline.rows import one_row
from pipeline.settings import Settings
from pipeline.source import source_dsn
from pipeline.source.database import open_connection
from pipeline.stream.capture import capture_batch, ensure_lake
from pipeline.stream.load import LiveRefresher, load_pending
from pipeline.stream.simulate import Catalog, simulate_minute
from pipeline.stream.state import apply_stream_schema, start_clock, stop_clock
from pipeline.stream.tables import STREAM_TABLES

# Offsets that keep copied rows apart from every real one (ids of the simulated shop stay far below).
ID_STRIDE = {"orders": 1_000_000, "order_items": 1_000_000, "events": 10_000_000, "order_cancellations": 1_000_000}
# Time columns shifted with each copy, per table.
TIME_COLUMNS = {
    "orders": ("created_at", "updated_at"),
    "order_items": (),
    "products": ("updated_at",),
    "events": ("event_ts",),
    "order_cancellations": ("cancelled_at",),
}
ID_COLUMNS = {
    "orders": ("id",),
    "order_items": ("id", "order_id"),
    "products": (),
    "events": ("id",),
    "order_cancellations": ("order_id",),
}


def measure_history(
    settings: Settings, *, days: int = 10, probe_batches: int = 6, batch_minutes: int = 5, seed: int = 42
) -> dict:
    """Refresh seconds of `probe_batches` batches on day 1 and on day `days`, with the warehouse's size at each."""
    lake = Lake.from_settings(settings.lake)
    with open_connection(source_dsn(settings)) as conn:
        apply_stream_schema(conn)
        ensure_lake(lake)
        clock = start_clock(conn, 60.0, seed)
        catalog = Catalog.read(conn)
        refresher = LiveRefresher(settings)
        minute = clock.sim_time

        def probe() -> dict:
            nonlocal minute
            seconds, rows = [], []
            for _ in range(probe_batches):
                for _ in range(batch_minutes):
                    simulate_minute(conn, catalog, minute, clock.seed)
                    minute += timedelta(minutes=1)
                batch = capture_batch(conn, lake)
                load_pending(settings, conn, lake, warehouse_must_exist=False)
                started = time.perf_counter()
                refresher.refresh()
                seconds.append(time.perf_counter() - started)
                rows.append(batch.total_rows if batch else 0)
            return {
                "refresh_s": {"p50": round(statistics.median(seconds), 3), "max": round(max(seconds), 3)},
                "rows_per_batch": round(statistics.mean(rows)),
                "warehouse": _sizes(settings),
            }

        try:
            probe_span = timedelta(minutes=probe_batches * batch_minutes)
            first_minute = minute
            _warm_up(conn, catalog, settings, lake, refresher, minute, clock.seed)
            minute += timedelta(minutes=1)
            first = probe()
            copies = int(timedelta(days=days - 1) / probe_span)
            fast_forward(settings, since=first_minute, span=probe_span, copies=copies)
            refresher.refresh()  # the fast-forwarded days reach the live marts: one big, untimed refresh
            minute += timedelta(days=days - 1)
            with conn.transaction():
                conn.execute("UPDATE sim_clock SET sim_time = %s", (minute,))
            last = probe()
        finally:
            stop_clock(conn)
    return {
        "days": days,
        "batch_minutes": batch_minutes,
        "probe_batches": probe_batches,
        "day_1": first,
        f"day_{days}": last,
        "slowdown": round(last["refresh_s"]["p50"] / first["refresh_s"]["p50"], 2),
    }


def _warm_up(conn, catalog, settings, lake, refresher, minute, seed) -> None:
    """One untimed batch: the first dbt run of a process pays for imports and creates the live marts."""
    simulate_minute(conn, catalog, minute, seed)
    capture_batch(conn, lake)
    load_pending(settings, conn, lake, warehouse_must_exist=False)
    refresher.refresh()


def fast_forward(settings: Settings, *, since: datetime, span: timedelta, copies: int) -> None:
    """Copy the stream rows written since `since` into RAW `copies` times, each shifted by one more `span`."""
    loaded_at = datetime.now(UTC).replace(tzinfo=None)  # as the loader stamps rows: naive UTC
    with open_warehouse(settings) as con:
        for table in STREAM_TABLES:
            columns = [row[0] for row in con.execute(f'DESCRIBE RAW."{table}"').fetchall()]
            con.execute(
                f'INSERT INTO RAW."{table}" SELECT {", ".join(_shifted(table, column, span) for column in columns)} '
                f'FROM RAW."{table}", range(1, {copies + 1}) AS copies(k) WHERE {_written_since(table)}',
                [loaded_at, since],
            )


def _shifted(table: str, column: str, span: timedelta) -> str:
    """The expression of `column` in copy number k."""
    if column in ID_COLUMNS[table]:
        return f'"{column}" + k * {ID_STRIDE[table]} AS "{column}"'
    if column in TIME_COLUMNS[table]:
        return f'"{column}" + k * INTERVAL \'{int(span.total_seconds())} seconds\' AS "{column}"'
    if column == "_source_file":
        return f"'raw/stream/{table}/history-' || k || '.parquet' AS _source_file"
    if column == "_loaded_at":
        return "$1::TIMESTAMP AS _loaded_at"
    return f'"{column}"'


def _written_since(table: str) -> str:
    """Stream rows of `table` written at or after the timestamp `$2`."""
    stream = "_source_file LIKE 'raw/stream/%/dt=%'"  # the real batches, not earlier copies
    if table == "order_items":
        return f"{stream} AND order_id IN (SELECT id FROM RAW.orders WHERE created_at >= $2)"
    return f'{stream} AND "{TIME_COLUMNS[table][0]}" >= $2'


def _sizes(settings: Settings) -> dict[str, int]:
    """Stream rows in RAW and rows of each live mart."""
    with open_warehouse(settings, read_only=True) as con:
        sizes = {
            f"raw_{table}": one_row(
                con.execute(f"SELECT count(*) FROM RAW.\"{table}\" WHERE _source_file LIKE 'raw/stream/%'")
            )[0]
            for table in STREAM_TABLES
        }
        for mart in ("mart_live_orders", "mart_live_hourly", "mart_live_stock"):
            sizes[mart] = one_row(con.execute(f"SELECT count(*) FROM MARTS.{mart}"))[0]
    return sizes
