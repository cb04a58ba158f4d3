"""The OLTP source of the road: an embedded PostgreSQL under the stack folder, or any PostgreSQL by DSN.

dsn = up(settings)          # start (or reuse) the server, create the stack's database and schema
counts = table_counts(dsn)  # rows per source table
down(settings)              # stop the embedded server; purge=True also deletes the stack folder
"""

from __future__ import annotations

import contextlib
import fcntl
import shutil
from collections.abc import Iterator
from urllib.parse import quote

import psycopg

from pipeline.errors import ShopstreamError
from pipeline.settings import Settings
from pipeline.source import security
from pipeline.source.database import (
    SUPERUSER_DATABASE,
    apply_schema,
    describe,
    ensure_database,
    ensure_owner_role,
    open_connection,
    table_counts,
)
from pipeline.source.server import HOST, SUPERUSER, EmbeddedServer

__all__ = ["admin_dsn", "connect", "down", "source_dsn", "table_counts", "up"]


def up(settings: Settings) -> str:
    """Make the source ready and return its DSN.

    Embedded: start the server (or reuse the one already running on the stack's PGDATA), create the stack's
    database if missing and apply the schema. User DSN: check that it is reachable and create missing tables only.
    """
    if settings.source.dsn is not None:  # a user DSN, not the embedded server
        dsn = settings.source.dsn.get_secret_value()
        apply_schema(dsn)
        return dsn
    # One `up` at a time per stack: two first `up`s would race to create the same role and database.
    with _stack_lock(settings):
        server = _server(settings).start()
        credentials = security.ensure_credentials(settings.home)
        server_dsn = _dsn(server.port, SUPERUSER_DATABASE, SUPERUSER, credentials.superuser_password)
        ensure_database(server_dsn, settings.source.database)
        owner = settings.names.postgres_owner_role
        ensure_owner_role(server_dsn, settings.source.database, owner, credentials.owner_password)
        dsn = _dsn(server.port, settings.source.database, owner, credentials.owner_password)
        apply_schema(dsn)
    return dsn


def down(settings: Settings, purge: bool = False) -> None:
    """Stop the stack's embedded server if it runs; `purge` also deletes the stack folder (data, lake, warehouse).

    A user DSN's server is never touched.
    """
    _server(settings).stop()
    if purge:
        shutil.rmtree(settings.home, ignore_errors=True)
        if settings.home.exists():
            raise ShopstreamError(f"could not delete {settings.home} entirely; check its permissions")


def source_dsn(settings: Settings) -> str:
    """The DSN of the running source: the user's DSN, or the embedded server's (which must be running)."""
    if settings.source.dsn is not None:  # a user DSN, not the embedded server
        return settings.source.dsn.get_secret_value()
    server = _server(settings).running()
    if server is None:
        raise ShopstreamError(
            f"the source PostgreSQL of stack {settings.stack!r} is not running; "
            f"run `shopstream up --stack {settings.stack}`"
        )
    credentials = _credentials(settings)
    return _dsn(server.port, settings.source.database, settings.names.postgres_owner_role, credentials.owner_password)


def display_dsn(settings: Settings, show_password: bool = False) -> str:
    """The owner's connection string for psql or DBeaver; the password is masked unless asked for."""
    dsn = source_dsn(settings)
    if show_password or not settings.source.embedded:
        return dsn if show_password else describe(dsn)
    return dsn.replace(quote(_credentials(settings).owner_password, safe=""), "***")


def admin_dsn(settings: Settings, database: str = SUPERUSER_DATABASE) -> str:
    """The superuser's DSN of the running embedded server (for administration, never for the pipeline's steps)."""
    server = _server(settings).running()
    if server is None or not settings.source.embedded:
        raise ShopstreamError(f"stack {settings.stack!r} has no running embedded PostgreSQL; run `shopstream up`")
    return _dsn(server.port, database, SUPERUSER, _credentials(settings).superuser_password)


def connect(settings: Settings) -> psycopg.Connection:
    """A new connection to the stack's source database (the caller closes it, e.g. with `with`)."""
    return open_connection(source_dsn(settings))


def _server(settings: Settings) -> EmbeddedServer:
    return EmbeddedServer(home=settings.home, pgdata=settings.pgdata, port=settings.source.port)


def _credentials(settings: Settings) -> security.Credentials:
    credentials = security.read_credentials(settings.home)
    if credentials is None:
        raise ShopstreamError(
            f"stack {settings.stack!r} has no PostgreSQL passwords yet ({security.credentials_path(settings.home)}); "
            f"run `shopstream up --stack {settings.stack}`"
        )
    return credentials


@contextlib.contextmanager
def _stack_lock(settings: Settings) -> Iterator[None]:
    security.make_private(settings.home)
    with (settings.home / ".up.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _dsn(port: int, database: str, user: str, password: str) -> str:
    return f"postgresql://{quote(user)}:{quote(password, safe='')}@{HOST}:{port}/{database}"
