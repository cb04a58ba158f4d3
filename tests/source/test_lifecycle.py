"""Lifecycle of the embedded PostgreSQL (real servers): up, reuse, crash recovery, errors, down.

These tests run their own stack ("life") on its own free port, next to the session's "test" stack.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import psutil
import psycopg
import pytest
from pydantic import SecretStr

from pipeline.errors import ShopstreamError
from pipeline.settings import ENV_PG_PORT, Settings, local_settings
from pipeline.source import admin_dsn, connect, down, source_dsn, table_counts, up
from pipeline.source.server import EmbeddedServer, free_port, port_is_free


@pytest.fixture(scope="module")
def life(shopstream_home) -> Iterator[Settings]:
    settings = local_settings("life")
    settings.source.port = free_port()
    yield settings
    down(settings, purge=True)


def _postmaster_pid(settings: Settings) -> int:
    return int((settings.pgdata / "postmaster.pid").read_text().splitlines()[0])


def test_up_starts_the_server_and_creates_database_and_schema(life: Settings) -> None:
    dsn = up(life)
    assert dsn.startswith("postgresql://shopstream_life_owner:")
    assert dsn.endswith(f"@127.0.0.1:{life.source.port}/shopstream_life")
    assert table_counts(dsn) == dict.fromkeys(table_counts(dsn), 0) and len(table_counts(dsn)) == 6
    assert (life.home / "logs" / "postgres.log").read_text()  # the server log stays in the stack folder
    assert source_dsn(life) == dsn


def test_up_twice_reuses_the_running_server_and_keeps_rows(life: Settings) -> None:
    up(life)
    pid = _postmaster_pid(life)
    with connect(life) as conn:
        conn.execute("INSERT INTO users (email, country) VALUES ('twice@example.com', 'FR')")
    dsn = up(life)
    assert _postmaster_pid(life) == pid
    assert table_counts(dsn)["users"] == 1
    with connect(life) as conn:
        conn.execute("DELETE FROM users")


def test_a_crashed_server_is_detected_and_restarted(life: Settings) -> None:
    up(life)
    pid = _postmaster_pid(life)
    with connect(life) as conn:
        conn.execute("INSERT INTO users (email, country) VALUES ('survivor@example.com', 'DE')")
    server = psutil.Process(pid)
    children = server.children(recursive=True)
    server.kill()  # like a power cut: postmaster.pid stays behind with a dead PID
    psutil.wait_procs([server, *children], timeout=30)
    assert (life.pgdata / "postmaster.pid").exists()
    with pytest.raises(ShopstreamError, match="shopstream up"):
        source_dsn(life)

    dsn = up(life)
    assert _postmaster_pid(life) != pid
    assert table_counts(dsn)["users"] == 1  # committed rows survive the crash
    with connect(life) as conn:
        conn.execute("DELETE FROM users")


def test_a_pid_file_naming_another_live_process_is_stale(life: Settings) -> None:
    down(life)
    # The PID of this test process: alive, but not a postgres server.
    (life.pgdata / "postmaster.pid").write_text(f"{os.getpid()}\n{life.pgdata}\n0\n{life.source.port}\n\n\n\nready\n")
    with pytest.raises(ShopstreamError, match="not running"):
        source_dsn(life)
    dsn = up(life)
    assert _postmaster_pid(life) != os.getpid()
    assert table_counts(dsn)["users"] == 0


def test_down_stops_the_server_and_frees_the_port(life: Settings) -> None:
    up(life)
    pid = _postmaster_pid(life)
    down(life)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert port_is_free(life.source.port)
    with pytest.raises(ShopstreamError, match=r"run `shopstream up --stack life`"):
        source_dsn(life)
    assert life.pgdata.is_dir()  # data kept for the next `up`
    down(life)  # stopping a stopped server is fine


def test_down_purge_deletes_the_stack_folder(shopstream_home) -> None:
    port = free_port()
    settings = local_settings("purged")
    settings.source.port = port
    up(settings)
    down(settings, purge=True)
    assert not settings.home.exists()
    assert port_is_free(port)


def test_a_busy_port_gives_a_one_line_error_naming_the_variable(shopstream_home) -> None:
    port = free_port()
    settings = local_settings("busy")
    settings.source.port = port
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        with pytest.raises(ShopstreamError) as error:
            up(settings)
    message = str(error.value)
    assert "\n" not in message
    assert str(port) in message and ENV_PG_PORT in message
    assert EmbeddedServer(settings.home, settings.pgdata, port).running() is None
    down(settings, purge=True)


def test_an_unreachable_dsn_names_host_and_port_but_hides_the_password(shopstream_home) -> None:
    port = free_port()
    settings = local_settings("remote")
    settings.source.dsn = SecretStr(f"postgresql://alice:s3cr3t-pw@127.0.0.1:{port}/shop")
    with pytest.raises(ShopstreamError) as error:
        up(settings)
    message = str(error.value)
    assert "\n" not in message
    assert f"127.0.0.1:{port}" in message
    assert "s3cr3t-pw" not in message
    assert not settings.pgdata.exists()  # nothing embedded is created for a user DSN


def test_a_user_dsn_gets_the_schema_and_nothing_else(life: Settings, source_settings: Settings) -> None:
    """A reachable user DSN (here: a fresh database on the session server) only receives the missing tables."""
    server_dsn = admin_dsn(source_settings).rsplit("/", 1)[0]
    with psycopg.connect(f"{server_dsn}/postgres", autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS byo_source")
        conn.execute("CREATE DATABASE byo_source")
    try:
        settings = local_settings("byo")
        settings.source.dsn = SecretStr(f"{server_dsn}/byo_source")
        assert up(settings) == f"{server_dsn}/byo_source"
        assert sum(table_counts(source_dsn(settings)).values()) == 0
        assert not settings.pgdata.exists()
    finally:
        with psycopg.connect(f"{server_dsn}/postgres", autocommit=True) as conn:
            conn.execute("DROP DATABASE byo_source WITH (FORCE)")


def test_down_of_a_stack_that_never_ran_creates_nothing(shopstream_home) -> None:
    settings = local_settings("ghost")
    down(settings)
    assert not settings.home.exists()
