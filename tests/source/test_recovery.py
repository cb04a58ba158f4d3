"""No stuck stacks: a killed first `up` (negative PID in postmaster.pid, a half-made cluster) and two `up`s of
a new stack at once (real embedded PostgreSQL servers, real `shopstream` processes)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.settings import ENV_HOME, ENV_PG_PORT, local_settings
from pipeline.source import down, table_counts, up
from pipeline.source.server import free_port

SHOPSTREAM = str(Path(sys.executable).with_name("shopstream"))


def test_a_first_up_killed_during_initdb_leaves_a_stack_every_command_can_handle(shopstream_home: Path) -> None:
    settings = local_settings("killed")
    settings.source.port = free_port()
    # What a `kill -9` during initdb left: an empty PGDATA, initdb's side folder, and a standalone backend's
    # negative PID in a postmaster.pid.
    settings.pgdata.mkdir(parents=True)
    side = settings.pgdata.with_name("postgres.initdb")
    side.mkdir()
    (side / "PG_VERSION").write_text("18\n")
    (settings.pgdata / "postmaster.pid").write_text(f"-{os.getpid()}\n{settings.pgdata}\n0\n{settings.source.port}\n")
    env = {ENV_HOME: str(shopstream_home), ENV_PG_PORT: str(settings.source.port), "SHOPSTREAM_DEBUG": None}
    runner = CliRunner()

    for command in (["status"], ["down"]):
        result = runner.invoke(app, [*command, "--stack", "killed"], env=env)
        assert result.exit_code == 0, result.output  # before: a negative PID crashed every command
    dsn = up(settings)  # up recovers: a fresh cluster, the side folder gone
    assert sum(table_counts(dsn).values()) == 0
    assert not side.exists()
    down(settings)
    (settings.pgdata / "postmaster.pid").write_text(f"-1\n{settings.pgdata}\n0\n{settings.source.port}\n")
    purge = runner.invoke(app, ["down", "--purge", "--stack", "killed"], env=env)
    assert purge.exit_code == 0, purge.output
    assert not settings.home.exists()


def test_two_simultaneous_ups_of_a_new_stack_both_succeed(shopstream_home: Path) -> None:
    env = {**os.environ, ENV_HOME: str(shopstream_home), ENV_PG_PORT: str(free_port())}
    env.pop("SHOPSTREAM_DEBUG", None)
    processes = [
        subprocess.Popen(
            [SHOPSTREAM, "up", "--stack", "twins"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    try:
        for process in processes:
            out, errors = process.communicate(timeout=180)
            assert process.returncode == 0, errors  # before: "unexpected UniqueViolation" for one of them
            assert "source ready" in out
    finally:
        settings = local_settings("twins")
        down(settings, purge=True)
