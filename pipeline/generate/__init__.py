"""Deterministic demo data for the source: the same seed and scale always give the same rows.

    counts = generate(dsn, scale=1.0, seed=42)  # fills the six (empty) source tables; returns rows per table

Scale factor 1 is 1,000 users, 200 products, 5,000 orders (about 15,000 lines), 10,000 events and 500 CRM
contacts over 2024-2025; other scales are linear (fractions allowed).
"""

from __future__ import annotations

import contextlib
import math
import queue
import threading
from collections.abc import Iterator

import pyarrow as pa

from pipeline.errors import ShopstreamError
from pipeline.generate.load import Progress, empty_tables, ensure_empty, load_tables
from pipeline.generate.tables import SCALE_ROWS, generate_tables
from pipeline.source.database import open_connection

__all__ = ["SCALE_ROWS", "generate", "is_empty"]

MAX_SCALE = 10_000  # 50 million orders: far beyond what a laptop loads, and a guard against typos


def generate(dsn: str, scale: float, seed: int, progress: Progress | None = None) -> dict[str, int]:
    """Generate the dataset for (scale, seed) and load it into the empty source tables at `dsn`; rows per table.

    The tables are built in a background thread while the previous ones are copied into PostgreSQL: the build is
    numpy and the COPY waits on the server, so on two cores each mostly hides behind the other."""
    _check_scale(scale)
    with open_connection(dsn) as conn:
        ensure_empty(conn, dsn)  # fail before spending time on generation; the load checks again under a lock
    return load_tables(dsn, _built_ahead(generate_tables(scale, seed)), progress)


def is_empty(dsn: str) -> bool:
    """True when every source table is empty (the schema must exist)."""
    with open_connection(dsn) as conn:
        return all(empty_tables(conn).values())


def _built_ahead(tables: Iterator[tuple[str, pa.Table]]) -> Iterator[tuple[str, pa.Table]]:
    """Yield what `tables` yields, building the next table in a background thread meanwhile. An error in the build
    is raised here, in the consumer's thread; a consumer that stops early stops the build at its next table."""
    ahead: queue.Queue[tuple[str, pa.Table] | BaseException | None] = queue.Queue(maxsize=1)
    stopped = threading.Event()

    def build() -> None:
        try:
            for item in tables:
                if stopped.is_set():
                    return
                ahead.put(item)
            ahead.put(None)
        except BaseException as exc:  # handed to the consumer, which raises it
            ahead.put(exc)

    builder = threading.Thread(target=build, name="generate-tables", daemon=True)
    builder.start()
    try:
        while (item := ahead.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stopped.set()
        with contextlib.suppress(queue.Empty):
            ahead.get_nowait()  # unblock a builder waiting to hand over a table nobody will load


def _check_scale(scale: float) -> None:
    if not isinstance(scale, int | float) or not math.isfinite(scale) or not 0 < scale <= MAX_SCALE:
        raise ShopstreamError(f"scale must be a number greater than 0 and at most {MAX_SCALE} (got {scale!r})")
