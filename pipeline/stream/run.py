"""The stream: a simulator thread writes orders in PostgreSQL while the main loop ships micro-batches.

Every `batch_seconds` the loop captures what changed, publishes it to the lake, loads it into RAW and refreshes the
live models; when `duration` is over, the simulator stops and a final flush ships everything it wrote. Latency is
measured per order: the moment the live models that show it finished minus the moment it was written in PostgreSQL.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import psycopg

from pipeline.errors import WAREHOUSE_IN_USE, ShopstreamError
from pipeline.lake import Lake
from pipeline.settings import DuckDBWarehouse, Settings
from pipeline.source import source_dsn
from pipeline.source.database import open_connection
from pipeline.stream.capture import DEFAULT_OVERLAP, Batch, capture_batch, ensure_lake
from pipeline.stream.load import LiveRefresher, load_pending, prepare_raw
from pipeline.stream.simulate import Catalog, simulate_minute
from pipeline.stream.state import (
    acquire_stream_lock,
    apply_stream_schema,
    check_base_data,
    start_clock,
    stop_clock,
)

Log = Callable[[str], None]
TICK_S = 0.05
BUSY_RETRIES, BUSY_WAIT_S = 20, 0.25
T = TypeVar("T")  # how often the simulator looks at the wall clock


@dataclass
class StreamReport:
    orders: int = 0
    cancelled_for_stock: int = 0
    batches: int = 0
    latency_s: dict[str, float | None] = field(default_factory=lambda: {"p50": None, "p95": None, "max": None})
    sim_start: str = ""
    sim_end: str = ""
    minutes: int = 0
    refresh_s: dict[str, float | None] = field(default_factory=dict)  # live-model refresh: first, last, max
    # Seconds per step of a batch (capture → lake, lake → RAW, live-model refresh): p50 and max of each.
    steps_s: dict[str, dict[str, float | None]] = field(default_factory=dict)

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")


def validate_options(speed: float, duration: float, batch_seconds: float) -> None:
    for name, value in (("--speed", speed), ("--duration", duration), ("--batch-seconds", batch_seconds)):
        if not value > 0:
            raise ShopstreamError(f"{name} must be positive (got {value:g}); e.g. --speed 60 --duration 120")


class Simulator(threading.Thread):
    """Generates every simulated minute the clock has passed, one transaction per minute."""

    def __init__(self, dsn: str, sim_start: datetime, speed: float, seed: int) -> None:
        super().__init__(name="order-simulator", daemon=True)
        self.dsn, self.speed, self.seed = dsn, speed, seed
        self.next_minute = sim_start
        self.stop_event = threading.Event()
        self.error: BaseException | None = None
        self.orders = self.cancelled = self.minutes = 0

    def stop(self) -> None:
        self.stop_event.set()
        if self.ident is not None:
            self.join()

    def run(self) -> None:
        try:
            with open_connection(self.dsn) as conn:
                catalog = Catalog.read(conn)
                sim_origin, real_origin = self.next_minute, time.monotonic()
                while not self.stop_event.is_set():
                    now = sim_origin + timedelta(seconds=(time.monotonic() - real_origin) * self.speed)
                    while self.next_minute + timedelta(minutes=1) <= now and not self.stop_event.is_set():
                        result = simulate_minute(conn, catalog, self.next_minute, self.seed)
                        self.orders += len(result.orders)
                        self.cancelled += sum(not o.accepted for o in result.orders)
                        self.minutes += 1
                        self.next_minute += timedelta(minutes=1)
                    self.stop_event.wait(TICK_S)
        except BaseException as exc:  # reported by the main loop as one line
            self.error = exc


def run_stream(
    settings: Settings,
    *,
    speed: float = 60.0,
    duration: float = 60.0,
    batch_seconds: float = 5.0,
    seed: int = 42,
    overlap: timedelta = DEFAULT_OVERLAP,
    log: Log | None = None,
    publish_only: bool = False,
) -> StreamReport:
    validate_options(speed, duration, batch_seconds)
    dsn = source_dsn(settings)
    lake = Lake.from_settings(settings.lake)
    with open_connection(dsn) as conn:
        apply_stream_schema(conn)
        acquire_stream_lock(conn, settings.stack)  # held until this connection closes, even on kill -9
        check_base_data(conn, settings.stack)
        ensure_lake(lake)
        clock = start_clock(conn, speed, seed)
        report = StreamReport(sim_start=clock.sim_time.isoformat())
        shipper = _Shipper(settings, conn, lake, overlap, log, publish_only=publish_only)
        simulator = Simulator(dsn, clock.sim_time, speed, clock.seed)
        try:
            shipper.recover()  # batches journaled by a killed run but not loaded yet
            simulator.start()
            deadline = time.monotonic() + duration
            while time.monotonic() < deadline:
                next_batch = time.monotonic() + batch_seconds
                _raise_from(simulator)
                shipper.ship()
                time.sleep(max(0.0, min(next_batch, deadline) - time.monotonic()))
            simulator.stop()
            _raise_from(simulator)
            shipper.ship()  # the final flush: everything the simulator wrote
        finally:
            simulator.stop()
            with suppress(psycopg.Error):  # a source that went away keeps its clock running=true: harmless
                stop_clock(conn)
        report.sim_end = simulator.next_minute.isoformat()
    report.orders, report.cancelled_for_stock, report.minutes = simulator.orders, simulator.cancelled, simulator.minutes
    report.batches = shipper.batches
    report.latency_s = latency_summary(shipper.latencies)
    report.refresh_s = refresh_summary(shipper.refreshes)
    report.steps_s = {step: step_summary(seconds) for step, seconds in shipper.steps.items()}
    return report


class _Shipper:
    """Capture → publish → journal → load → refresh, and the latency of every new order it ships."""

    def __init__(
        self, settings: Settings, conn, lake: Lake, overlap: timedelta, log: Log | None, *, publish_only: bool
    ) -> None:
        self.settings, self.conn, self.lake, self.overlap, self.log = settings, conn, lake, overlap, log
        self.publish_only = publish_only  # Airflow (or Snowpipe) loads: latency is then measured there
        warehouse = settings.warehouse
        self.warehouse_seen = isinstance(warehouse, DuckDBWarehouse) and warehouse.path.exists()
        self.batches = 0
        self.latencies: list[float] = []
        self.refreshes: list[float] = []  # seconds per live-model refresh, in batch order
        self.steps: dict[str, list[float]] = {"capture": [], "load": [], "refresh": []}
        self.refresher = None if publish_only else LiveRefresher(settings)

    def recover(self) -> None:
        """Load batches a killed run journaled but did not load, and refresh the live models once before the first
        batch: the first dbt run of a process pays for imports and adapter set-up, which no order should wait for."""
        if self.refresher is None:
            return
        self._load()
        if isinstance(self.settings.warehouse, DuckDBWarehouse):  # Snowflake: Snowpipe loads (see _load's error)
            _while_busy(lambda: prepare_raw(self.settings))  # a fresh stack's warehouse: the first batch makes it
            self.warehouse_seen = True
            _while_busy(self.refresher.refresh)

    def ship(self) -> Batch | None:
        started = time.perf_counter()
        batch = capture_batch(self.conn, self.lake, self.overlap)
        if batch is None:
            return None
        self.batches += 1
        captured = time.perf_counter()
        self.steps["capture"].append(captured - started)
        if self.refresher is None:
            return batch
        loaded = self._load()
        self.steps["load"].append(time.perf_counter() - captured)
        if loaded:
            refresh_started = time.perf_counter()
            _while_busy(self.refresher.refresh)
            self.refreshes.append(time.perf_counter() - refresh_started)
            self.steps["refresh"].append(self.refreshes[-1])
        visible = datetime.now(UTC)
        latest = [(visible - written).total_seconds() for written in batch.new_orders.values()]
        self.latencies += latest
        write_status(self.settings, batch, visible, latency_summary(latest))
        if self.log:
            self.log(f"batch {batch.batch_no}: {batch.total_rows} rows, {len(batch.new_orders)} new orders")
        return batch

    def _load(self) -> int:
        loaded = _while_busy(
            lambda: load_pending(self.settings, self.conn, self.lake, warehouse_must_exist=self.warehouse_seen)
        )
        self.warehouse_seen = self.warehouse_seen or loaded > 0
        return loaded


def status_path(settings: Settings) -> Path:
    """The stream's latest batch and its latency, for the live dashboard page (`<home>/stream/status.json`)."""
    return settings.home / "stream" / "status.json"


def write_status(settings: Settings, batch: Batch, visible: datetime, latency: dict) -> None:
    path = status_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    status = {"batch_no": batch.batch_no, "visible_at": visible.isoformat(), "rows": batch.total_rows,
              "new_orders": len(batch.new_orders), "latency_s": latency}  # fmt: skip
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(status) + "\n")
    tmp.replace(path)  # atomic: the page never reads half a file


def latency_summary(latencies: list[float]) -> dict[str, float | None]:
    if not latencies:
        return {"p50": None, "p95": None, "max": None}
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {"p50": round(statistics.median(ordered), 3), "p95": round(p95, 3), "max": round(ordered[-1], 3)}


def refresh_summary(refreshes: list[float]) -> dict[str, float | None]:
    """First and last refresh side by side: with incremental models the last costs what the first did."""
    if not refreshes:
        return {"first": None, "last": None, "max": None}
    return {"first": round(refreshes[0], 3), "last": round(refreshes[-1], 3), "max": round(max(refreshes), 3)}


def step_summary(seconds: list[float]) -> dict[str, float | None]:
    if not seconds:
        return {"p50": None, "max": None}
    return {"p50": round(statistics.median(seconds), 3), "max": round(max(seconds), 3)}


def _while_busy(step: Callable[[], T]) -> T:
    """Run a warehouse step, waiting out a reader (the live dashboard page) that holds the DuckDB file briefly."""
    for _ in range(BUSY_RETRIES):
        try:
            return step()
        except ShopstreamError as exc:
            if WAREHOUSE_IN_USE not in str(exc):
                raise
            time.sleep(BUSY_WAIT_S)
    return step()


def _raise_from(simulator: Simulator) -> None:
    if simulator.error is not None:
        raise simulator.error
