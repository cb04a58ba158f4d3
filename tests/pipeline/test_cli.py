"""`shopstream` errors: one red line on stderr, a non-zero exit code, never a traceback or a password."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.extract import extract
from pipeline.lake import Lake
from pipeline.load import load
from pipeline.load.duckdb import layer_counts
from pipeline.naming import LAKE_PREFIXES
from pipeline.settings import LakeSettings, resolve_settings
from tests.helpers.seeded import STACK, free_port

runner = CliRunner()


def invoke(*args: str, **env: str):
    return runner.invoke(app, list(args), env={"SHOPSTREAM_DEBUG": None, **env})


def assert_one_line_error(result, *fragments: str) -> str:
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


@pytest.fixture(autouse=True)
def _isolated(pipe_env: dict[str, str]) -> None:
    """Every test here runs in the module's private SHOPSTREAM_HOME and port."""


def test_unknown_stack() -> None:
    result = invoke("load", "--stack", "ghost")
    assert_one_line_error(result, "unknown stack 'ghost'", "shopstream up --stack ghost")
    assert result.exit_code == 2


def test_invalid_stack_name() -> None:
    assert_one_line_error(invoke("status", "--stack", "Bad_Name"), "invalid stack name")


@pytest.mark.parametrize("date", ["2026-02-30", "24/11/2026", "2026-1-5"])
def test_bad_date(date: str) -> None:
    assert_one_line_error(invoke("extract", "--date", date), "YYYY-MM-DD")
    assert_one_line_error(invoke("run", "--date", date), "YYYY-MM-DD")


@pytest.mark.parametrize("command", ["run", "generate"])
def test_negative_scale(command: str) -> None:
    assert_one_line_error(invoke(command, "--scale", "-1"), "--scale must be positive")


def test_unreachable_dsn_never_shows_the_password() -> None:
    dsn = f"postgresql://reader:s3cret-pw@127.0.0.1:{free_port()}/shop"
    line = assert_one_line_error(
        invoke("extract", "--local", "--date", "2026-11-24", SHOPSTREAM_PG_DSN=dsn), "cannot connect"
    )
    assert "s3cret-pw" not in line


def test_port_in_use() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = invoke("up", "--stack", "busy", SHOPSTREAM_PG_PORT=str(port))
    assert_one_line_error(result, str(port))


@pytest.fixture
def locked_warehouse(pipe_env: dict[str, str]) -> Iterator[Path]:
    """Another process holds the write lock of stack `locked`'s DuckDB file, like an open dashboard would."""
    settings = resolve_settings("locked", create=True)
    settings.home.mkdir(parents=True, exist_ok=True)
    duckdb.connect(str(settings.warehouse.path)).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import duckdb, sys
                con = duckdb.connect({str(settings.warehouse.path)!r})
                print("locked", flush=True)
                sys.stdin.read()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        yield settings.warehouse.path
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def test_warehouse_locked(locked_warehouse: Path) -> None:
    assert_one_line_error(invoke("load", "--stack", "locked"), "warehouse is in use by another process")


def test_warehouse_locked_in_a_real_process(locked_warehouse: Path) -> None:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("shopstream")), "load", "--stack", "locked"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.strip().splitlines() == [
        "error: warehouse is in use by another process (close the dashboard or Airflow task)"
    ]


def test_help_teaches_with_examples() -> None:
    for command in ("run", "load", "extract", "up", "down", "status"):
        result = invoke(command, "--help")
        assert result.exit_code == 0
        assert "Examples" in result.output and f"shopstream {command}" in result.output
        assert "--stack" in result.output and "--outputs" in result.output


@pytest.fixture
def full_lake() -> Iterator[Path]:
    """A lake directory on a tmpfs of 64 KiB, filled up: a real filesystem with no space left."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    path = Path(tempfile.mkdtemp(prefix="shopstream-full-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(path)], check=True)
    try:
        with contextlib.suppress(OSError), (path / "filler").open("wb", buffering=0) as filler:
            while True:
                filler.write(b"\0" * 4096)
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=False)
        path.rmdir()


def test_disk_full_is_one_line_and_loses_nothing(pipe_stack, full_lake: Path) -> None:
    extract(pipe_stack, "2026-11-24")
    load(pipe_stack, "2026-11-24")
    loaded = layer_counts(pipe_stack)["RAW"]

    result = invoke("extract", "--stack", STACK, "--date", "2026-11-25", SHOPSTREAM_LAKE_URI=str(full_lake))

    assert_one_line_error(result, "disk full", "free some space")
    lake = Lake.from_settings(LakeSettings(uri=str(full_lake)))
    assert all(lake.list_files(prefix) == [] for prefix in LAKE_PREFIXES.values())  # no half-written file visible
    assert layer_counts(pipe_stack)["RAW"] == loaded
