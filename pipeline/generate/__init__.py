"""Deterministic demo data for the source: the same seed and scale always give the same rows.

    counts = generate(dsn, scale=1.0, seed=42)  # fills the six (empty) source tables; returns rows per table

Scale factor 1 is 1,000 users, 200 products, 5,000 orders (about 15,000 lines), 10,000 events and 500 CRM
contacts over 2024-2025; other scales are linear (fractions allowed).
"""

from __future__ import annotations

import math

from pipeline.errors import ShopstreamError
from pipeline.generate.load import Progress, empty_tables, ensure_empty, load_tables
from pipeline.generate.tables import SCALE_ROWS, build_dataset
from pipeline.source.database import open_connection

__all__ = ["SCALE_ROWS", "generate", "is_empty"]

MAX_SCALE = 10_000  # 50 million orders: far beyond what a laptop loads, and a guard against typos


def generate(dsn: str, scale: float, seed: int, progress: Progress | None = None) -> dict[str, int]:
    """Generate the dataset for (scale, seed) and load it into the empty source tables at `dsn`; rows per table."""
    _check_scale(scale)
    with open_connection(dsn) as conn:
        ensure_empty(conn, dsn)  # fail before spending time on generation; the load checks again under a lock
    dataset = build_dataset(scale, seed)
    load_tables(dsn, dataset.tables, progress)
    return dataset.counts()


def is_empty(dsn: str) -> bool:
    """True when every source table is empty (the schema must exist)."""
    with open_connection(dsn) as conn:
        return all(empty_tables(conn).values())


def _check_scale(scale: float) -> None:
    if not isinstance(scale, int | float) or not math.isfinite(scale) or not 0 < scale <= MAX_SCALE:
        raise ShopstreamError(f"scale must be a number greater than 0 and at most {MAX_SCALE} (got {scale!r})")
