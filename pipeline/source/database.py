"""Connections to the source PostgreSQL, the stack's database and its schema."""

from __future__ import annotations

import contextlib
from importlib import resources

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pipeline.errors import ShopstreamError, last_line
from pipeline.naming import SOURCE_TABLES

CONNECT_TIMEOUT_S = 10
SUPERUSER_DATABASE = "postgres"  # exists on every server; used to create the stack's database
# Any fixed number works: it only keeps two `up` commands from creating the same tables at once.
SCHEMA_LOCK_KEY = 7_366_823_517


def schema_sql() -> str:
    return resources.files("pipeline.source").joinpath("schema.sql").read_text()


def open_connection(dsn: str, **kwargs) -> psycopg.Connection:
    """Connect, turning any failure into a one-line error naming host and port but never the password."""
    try:
        return psycopg.connect(dsn, connect_timeout=CONNECT_TIMEOUT_S, **kwargs)
    except psycopg.OperationalError as exc:
        raise ShopstreamError(f"cannot connect to PostgreSQL at {describe(dsn)}: {_reason(exc, dsn)}") from None
    except psycopg.ProgrammingError:  # a malformed DSN; libpq's message may quote it, password included
        raise ShopstreamError(
            "invalid PostgreSQL DSN: expected postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
        ) from None


def describe(dsn: str) -> str:
    """host:port/database of a DSN, safe to print."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "<malformed DSN>"
    host = params.get("host") or params.get("hostaddr") or "localhost"
    return f"{host}:{params.get('port') or 5432}/{params.get('dbname') or params.get('user') or ''}"


def ensure_database(server_dsn: str, database: str) -> None:
    """Create `database` on the server unless it exists (CREATE DATABASE cannot run inside a transaction)."""
    with open_connection(server_dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if exists:
            return
        with contextlib.suppress(psycopg.errors.DuplicateDatabase):  # another command may have just created it
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def ensure_owner_role(server_dsn: str, database: str, role: str, password: str) -> None:
    """Make `role` (login with `password`, no other privilege) the owner of `database` and of its tables.

    Only the owner and superusers may connect to the database. Tables that an older version created as the
    superuser are handed to the owner, so the pipeline never needs the superuser.
    """
    with open_connection(server_dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        verb = sql.SQL("ALTER ROLE") if exists else sql.SQL("CREATE ROLE")
        conn.execute(
            sql.SQL("{} {} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}").format(
                verb, sql.Identifier(role), sql.Literal(password)
            )
        )
        conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(database), sql.Identifier(role)))
        conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(database)))
    database_dsn = make_conninfo(server_dsn, dbname=database)
    with open_connection(database_dsn, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner <> %s", (role,)
        ).fetchall()
        for (table,) in tables:
            conn.execute(sql.SQL("ALTER TABLE {} OWNER TO {}").format(sql.Identifier(table), sql.Identifier(role)))


def apply_schema(dsn: str) -> None:
    """Create the source tables and indexes that are missing; existing tables and rows are left untouched."""
    with open_connection(dsn) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
        conn.execute(schema_sql())


def table_counts(dsn: str) -> dict[str, int]:
    """Rows per source table, in the order of `SOURCE_TABLES`."""
    query = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {name}, count(*) FROM {table}").format(name=sql.Literal(table), table=sql.Identifier(table))
        for table in SOURCE_TABLES
    )
    with open_connection(dsn) as conn:
        try:
            rows = conn.execute(query).fetchall()
        except psycopg.errors.UndefinedTable as exc:
            raise ShopstreamError(
                f"the source database at {describe(dsn)} lacks a ShopStream table ({exc.diag.message_primary}); "
                "run `shopstream up` to create the schema"
            ) from None
    return {table: count for table, count in rows}


def _reason(exc: Exception, dsn: str) -> str:
    """The most specific line of a libpq error, scrubbed of the password."""
    return _scrub(last_line(str(exc)) or type(exc).__name__, dsn)


def _scrub(text: str, dsn: str) -> str:
    try:
        password = conninfo_to_dict(dsn).get("password")
    except psycopg.ProgrammingError:
        password = None
    return text.replace(str(password), "***") if password else text
