"""The OLTP source of the road: an embedded PostgreSQL under the stack folder, or any PostgreSQL by DSN.

dsn = up(settings)          # start (or reuse) the server, create the stack's database and schema
counts = table_counts(dsn)  # rows per source table
down(settings)              # stop the embedded server; purge=True also deletes the stack folder
"""

from __future__ import annotations

import shutil

import psycopg

from pipeline.errors import ShopstreamError
from pipeline.settings import Settings
from pipeline.source.database import (
    SUPERUSER_DATABASE,
    apply_schema,
    ensure_database,
    open_connection,
    table_counts,
)
from pipeline.source.server import HOST, SUPERUSER, EmbeddedServer

__all__ = ["connect", "down", "source_dsn", "table_counts", "up"]


def up(settings: Settings) -> str:
    """Make the source ready and return its DSN.

    Embedded: start the server (or reuse the one already running on the stack's PGDATA), create the stack's
    database if missing and apply the schema. User DSN: check that it is reachable and create missing tables only.
    """
    if not settings.source.embedded:
        dsn = settings.source.dsn.get_secret_value()
        apply_schema(dsn)
        return dsn
    server = _server(settings).start()
    server_dsn = _dsn(server.port, SUPERUSER_DATABASE)
    ensure_database(server_dsn, settings.source.database)
    dsn = _dsn(server.port, settings.source.database)
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
    if not settings.source.embedded:
        return settings.source.dsn.get_secret_value()
    server = _server(settings).running()
    if server is None:
        raise ShopstreamError(
            f"the source PostgreSQL of stack {settings.stack!r} is not running; "
            f"run `shopstream up --stack {settings.stack}`"
        )
    return _dsn(server.port, settings.source.database)


def connect(settings: Settings) -> psycopg.Connection:
    """A new connection to the stack's source database (the caller closes it, e.g. with `with`)."""
    return open_connection(source_dsn(settings))


def _server(settings: Settings) -> EmbeddedServer:
    return EmbeddedServer(home=settings.home, pgdata=settings.pgdata, port=settings.source.port)


def _dsn(port: int, database: str) -> str:
    return f"postgresql://{SUPERUSER}@{HOST}:{port}/{database}"
