"""A disk that fills up while the warehouse loads: the real cause in one line, nothing half-loaded, and a rerun
once space is freed loads every row exactly once.

The full disk is real: a small tmpfs mounted for the test. Mounting needs root and a container that allows it,
which this project's CI has; elsewhere the test says why it cannot run instead of pretending.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.errors import ResourceError
from pipeline.extract import extract
from pipeline.load import load
from pipeline.load.duckdb import ensure_raw, layer_counts, open_warehouse
from pipeline.settings import DuckDBWarehouse, Settings

DATE = "2026-11-20"
DISK_SIZE = 16 * 1024 * 1024
SPACE_LEFT = 64 * 1024  # less than one DuckDB block: the first table's rows cannot be written


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs the suite as root)")
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_SIZE}", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if mounted.returncode != 0:  # e.g. an unprivileged container
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "--lazy", str(mount_point)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """A file that takes all of the disk's free space but `leave` bytes."""
    filler = disk / "filler"
    with filler.open("wb") as handle:
        os.posix_fallocate(handle.fileno(), 0, shutil.disk_usage(disk).free - leave)
    return filler


def test_disk_full_during_load_is_one_line_and_a_rerun_loads_everything_once(pipe_stack: Settings, small_disk: Path):
    extract(pipe_stack, DATE)
    settings = pipe_stack.model_copy(update={"warehouse": DuckDBWarehouse(path=small_disk / "shopstream.duckdb")})
    with open_warehouse(settings) as con:
        ensure_raw(con)  # the empty warehouse fits; its first rows will not
    filler = fill(small_disk, leave=SPACE_LEFT)

    with pytest.raises(ResourceError) as failure:
        load(settings, DATE)

    message = str(failure.value)
    assert "disk full" in message and "free some space" in message, message
    assert "rollback" not in message and "\n" not in message, message
    filler.unlink()
    report = load(settings, DATE)
    assert not report.quarantined
    raw = layer_counts(settings)["RAW"]
    with open_warehouse(settings, read_only=True) as con:
        loaded = dict(con.execute('SELECT table_name, sum("rows") FROM RAW._LOAD_HISTORY GROUP BY 1').fetchall())
    assert raw == {table: loaded[table] for table in raw}  # every file once: no row lost, none twice
    assert raw["users"] == 300 and raw["events"] == 2000  # the hand-written source rows (tests/helpers/seeded.py)
