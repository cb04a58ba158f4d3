"""Who can reach a local stack's embedded PostgreSQL and its files (real servers, run as whichever user runs pytest).

Run as root (the default on many course VMs), the server runs as a system user: these tests then also check that
it has no root group and that the folders above the stack were not opened to every user.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.settings import Settings, local_settings
from pipeline.source import admin_dsn, down, source_dsn, up
from pipeline.source.security import credentials_path, read_credentials
from pipeline.source.server import SYSTEM_USER, free_port

IS_ROOT = os.geteuid() == 0


@pytest.fixture(scope="module")
def locked(shopstream_home: Path) -> Iterator[tuple[Settings, Path]]:
    """A stack whose folder sits inside a 0700 folder (like /root or a private home): the server must still start."""
    private_parent = shopstream_home / "private-parent"
    private_parent.mkdir(mode=0o700)
    settings = local_settings("locked")
    settings = settings.model_copy(update={"home": private_parent / "locked"})
    settings.source.port = free_port()
    up(settings)
    yield settings, private_parent
    down(settings, purge=True)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_nobody_logs_in_without_the_password(locked: tuple[Settings, Path]) -> None:
    settings, _ = locked
    for user in ("postgres", settings.names.postgres_owner_role, "nobody"):
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(host="127.0.0.1", port=settings.source.port, user=user, dbname="postgres")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(
            host="127.0.0.1", port=settings.source.port, user="postgres", password="guess", dbname="postgres"
        )


def test_the_pipeline_connects_as_the_owner_role_without_superuser_powers(locked: tuple[Settings, Path]) -> None:
    settings, _ = locked
    with psycopg.connect(source_dsn(settings)) as conn:
        user, superuser, createdb = conn.execute(
            "SELECT rolname, rolsuper, rolcreatedb FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        assert (user, superuser, createdb) == (settings.names.postgres_owner_role, False, False)
        owners = {
            owner for (owner,) in conn.execute("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
        }
        assert owners == {user}
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("COPY (SELECT 1) TO PROGRAM 'true'")


def test_programs_the_server_runs_have_no_root_group(locked: tuple[Settings, Path]) -> None:
    settings, _ = locked
    with psycopg.connect(admin_dsn(settings), autocommit=True) as conn:
        conn.execute("CREATE TEMP TABLE ids (line text)")
        conn.execute("COPY ids FROM PROGRAM 'id -u; id -G'")
        uid, groups = (line for (line,) in conn.execute("SELECT line FROM ids").fetchall())
    if IS_ROOT:
        assert uid != "0"
        assert "0" not in groups.split()  # before: the server kept root's gid 0 and read root-only files
    else:
        assert uid == str(os.geteuid())


def test_passwords_live_in_a_file_only_the_owner_can_read(locked: tuple[Settings, Path]) -> None:
    settings, _ = locked
    assert _mode(credentials_path(settings.home)) == 0o600
    assert _mode(settings.home) in (0o700, 0o710)  # 0o710: the ACL mask of the server user's traverse entry
    credentials = read_credentials(settings.home)
    assert credentials is not None
    assert credentials.owner_password not in (settings.home / "logs" / "postgres.log").read_text()


def test_folders_above_the_stack_are_not_opened_to_everyone(locked: tuple[Settings, Path]) -> None:
    _, private_parent = locked
    assert _mode(private_parent) & 0o077 in (0, 0o010)  # an ACL mask may show as group x; never 'other'
    assert _mode(private_parent) & 0o007 == 0
    if IS_ROOT:
        acl = subprocess.run(["getfacl", "-p", str(private_parent)], capture_output=True, text=True, check=True)
        assert f"user:{SYSTEM_USER}:--x" in acl.stdout  # exactly traverse, for exactly the server's user
        assert "group::---" in acl.stdout and "other::---" in acl.stdout


def test_source_dsn_prints_the_owner_connection_and_the_password_only_when_asked(source_settings: Settings) -> None:
    credentials = read_credentials(source_settings.home)
    assert credentials is not None
    runner = CliRunner()
    masked = runner.invoke(app, ["source", "dsn", "--stack", source_settings.stack])
    assert masked.exit_code == 0, masked.output
    assert credentials.owner_password not in masked.output
    assert f"{source_settings.names.postgres_owner_role}:***@127.0.0.1:" in masked.output
    shown = runner.invoke(app, ["source", "dsn", "--stack", source_settings.stack, "--show-password"])
    assert shown.exit_code == 0, shown.output
    with psycopg.connect(shown.output.strip()) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (source_settings.names.postgres_owner_role,)


def test_a_second_up_keeps_the_server_users_access(locked: tuple[Settings, Path]) -> None:
    settings, _ = locked
    up(settings)  # makes the stack folder private again: must not take the server user's traverse away
    if IS_ROOT:
        acl = subprocess.run(["getfacl", "-p", str(settings.home)], capture_output=True, text=True, check=True)
        assert f"user:{SYSTEM_USER}:--x" in acl.stdout and "mask::--x" in acl.stdout
    with psycopg.connect(source_dsn(settings)) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
