"""Refuse a scale the machine cannot hold before any work starts: estimated rows and bytes against free disk
space (where the stack keeps its data) and available memory (the generator builds each table in memory)."""

from __future__ import annotations

import shutil
from pathlib import Path

import psutil

from pipeline.errors import ResourceError

ROWS_PER_SF = 31_765  # source rows at SF 1 (docs/BENCHMARKS.md)
# Generous upper bounds per source row, measured at SF 1-100 and rounded up: PostgreSQL with its WAL and indexes,
# the Parquet lake and the DuckDB warehouse with its dbt models on disk; numpy/Arrow tables and CSV while generating.
DISK_BYTES_PER_ROW = 1_200
MEMORY_BYTES_PER_ROW = 600


def estimate(scale: float) -> tuple[int, int, int]:
    """(rows, disk bytes, memory bytes) a run at `scale` needs."""
    rows = round(ROWS_PER_SF * scale)
    return rows, rows * DISK_BYTES_PER_ROW, rows * MEMORY_BYTES_PER_ROW


def check_capacity(scale: float, home: Path) -> None:
    rows, disk, memory = estimate(scale)
    existing = next((p for p in (home, *home.parents) if p.exists()), Path("/"))
    free_disk = shutil.disk_usage(existing).free
    free_memory = psutil.virtual_memory().available
    if disk > free_disk:
        raise ResourceError(
            f"--scale {scale:g} needs about {_gib(disk)} of disk for {rows:,} rows, but {existing} has "
            f"{_gib(free_disk)} free; choose a smaller --scale or free some space"
        )
    if memory > free_memory:
        raise ResourceError(
            f"--scale {scale:g} needs about {_gib(memory)} of memory for {rows:,} rows, but only "
            f"{_gib(free_memory)} is available; choose a smaller --scale"
        )


def _gib(size: int) -> str:
    return f"{size / 2**30:,.1f} GiB"
