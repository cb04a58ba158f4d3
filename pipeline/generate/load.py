"""Bulk-load generated tables into the source PostgreSQL in one transaction: all six tables, or nothing.

Two choices make large scales fast. Arrow writes CSV in C++ and PostgreSQL parses it in C, which beats binary COPY
fed row by row from Python. And, as pg_restore does, keys and indexes are dropped before the COPY and rebuilt after
it: one sort per index and one join per foreign key instead of millions of single-row checks. A table's are rebuilt
as soon as it is loaded, while the generator builds the next table. All of it happens inside the loading
transaction, so a failure rolls the schema back with the rows, and the rebuilt foreign keys still validate every
loaded row.

Inside that transaction the six tables are also truncated (they are empty: it costs nothing) before the COPY. A
table truncated in the loading transaction lets PostgreSQL write its rows already frozen (`COPY ... FREEZE`: no
hint-bit rewrite and no vacuum pass when the extract reads them next) and, as the embedded server runs with
`wal_level=minimal`, skip the write-ahead log for them: the files are synced once at commit instead. The commit
itself does not wait for its WAL flush (`synchronous_commit = off` for this transaction only): a crash in the next
fraction of a second loses the demo data, which `generate` rebuilds from its seed.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterable

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import sql

from pipeline.errors import ShopstreamError
from pipeline.naming import SOURCE_TABLES
from pipeline.progress import Progress
from pipeline.source.database import describe, open_connection

CHUNK_ROWS = 100_000
_CSV_OPTIONS = pacsv.WriteOptions(include_header=False, quoting_style="needed")


def empty_tables(conn: psycopg.Connection) -> dict[str, bool]:
    """Whether each source table is empty; a missing table is a one-line error that says how to create it."""
    query = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {name}, NOT EXISTS (SELECT FROM {table})").format(
            name=sql.Literal(table), table=sql.Identifier(table)
        )
        for table in SOURCE_TABLES
    )
    try:
        return dict(conn.execute(query).fetchall())
    except psycopg.errors.UndefinedTable as exc:
        raise ShopstreamError(
            f"the source database lacks a ShopStream table ({exc.diag.message_primary}); run `shopstream up` first"
        ) from None


def ensure_empty(conn: psycopg.Connection, dsn: str) -> None:
    """Generated rows never mix with existing ones (ids and invariants would clash)."""
    not_empty = [table for table, empty in empty_tables(conn).items() if not empty]
    if not_empty:
        raise ShopstreamError(
            f"the source database at {describe(dsn)} already holds data ({', '.join(not_empty)}); "
            "start afresh with `shopstream down --purge` or use a new stack (--stack NAME)"
        )


def load_tables(dsn: str, tables: Iterable[tuple[str, pa.Table]], progress: Progress | None = None) -> dict[str, int]:
    """COPY every (name, table) of `tables` into the empty source tables, parents first, as `tables` yields them;
    then move identity sequences past the loaded ids. Rows loaded per table."""
    with open_connection(dsn) as conn:
        try:
            return _load_in_one_transaction(conn, dsn, tables, progress)
        except psycopg.Error as exc:
            reason = exc.diag.message_primary or type(exc).__name__
            _reclaim_space(dsn)
            hint = "; free some disk space and rerun" if isinstance(exc, psycopg.errors.DiskFull) else ""
            raise ShopstreamError(
                f"loading the demo data into {describe(dsn)} failed, nothing was loaded: {reason}{hint}"
            ) from None
        except BaseException:  # the build of a table failed (or was interrupted) after others were copied
            _reclaim_space(dsn)
            raise


def _reclaim_space(dsn: str) -> None:
    """VACUUM the tables a failed load rolled back: their dead rows would hold the disk space (a disk-full failure
    would then repeat at any scale) until autovacuum gets round to them."""
    with contextlib.suppress(psycopg.Error, ShopstreamError), open_connection(dsn, autocommit=True) as conn:
        for name in SOURCE_TABLES:
            conn.execute(sql.SQL("VACUUM {}").format(sql.Identifier(name)))


def _load_in_one_transaction(
    conn: psycopg.Connection, dsn: str, tables: Iterable[tuple[str, pa.Table]], progress: Progress | None
) -> dict[str, int]:
    every_table = sql.SQL(", ").join(sql.Identifier(t) for t in SOURCE_TABLES)
    counts: dict[str, int] = {}
    with conn.transaction():
        conn.execute("SET LOCAL synchronous_commit = off")
        conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
        # Block other sessions until commit, so two generators cannot both see empty tables.
        conn.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(every_table))
        ensure_empty(conn, dsn)
        integrity = _DeferredIntegrity(conn)
        conn.execute(sql.SQL("TRUNCATE {}").format(every_table))  # empty already: enables FREEZE, skips WAL
        for name, table in tables:
            _copy(conn, name, table, progress)
            counts[name] = table.num_rows
            # While the server builds this table's keys and indexes, the next table is being built.
            integrity.restore(loaded=set(counts))
        if sorted(counts) != sorted(SOURCE_TABLES):
            raise ShopstreamError(f"the generated data lacks tables: {sorted(set(SOURCE_TABLES) - set(counts))}")
        integrity.restore_the_rest()
        for name in SOURCE_TABLES:
            # Rows came with explicit ids: later inserts must continue after them.
            conn.execute(
                sql.SQL("SELECT setval(pg_get_serial_sequence({name}, 'id'), max(id)) FROM {table}").format(
                    name=sql.Literal(name), table=sql.Identifier(name)
                )
            )
    return counts


class _DeferredIntegrity:
    """The source tables' keys and indexes, dropped before the COPY and recreated table by table after it: a
    table's keys and indexes as soon as it is loaded, a foreign key once both of its tables are (parents load
    first, so their keys exist by then). Recreated keys check every loaded row."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self._conn = conn
        # (tables it needs loaded, statement), in an order they can be recreated in.
        self._pending: list[tuple[set[str], sql.SQL | sql.Composed]] = []
        constraints = conn.execute(_CONSTRAINTS, (list(SOURCE_TABLES),)).fetchall()
        indexes = conn.execute(_PLAIN_INDEXES, (list(SOURCE_TABLES),)).fetchall()
        for table, name, _, _ in reversed(constraints):  # foreign keys first: they depend on the primary keys
            conn.execute(
                sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(sql.Identifier(table), sql.Identifier(name))
            )
        for _, name, _ in indexes:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        for table, name, definition, referenced in constraints:
            statement = sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                sql.Identifier(table), sql.Identifier(name), sql.SQL(definition)
            )
            self._pending.append(({table, referenced} - {None}, statement))
        for table, _, definition in indexes:
            self._pending.append(({table}, sql.SQL(definition)))

    def restore_the_rest(self) -> None:
        """Recreate whatever is still waiting (a foreign key to a table outside the six, say)."""
        for _, statement in self._pending:
            self._conn.execute(statement)
        self._pending = []

    def restore(self, loaded: set[str]) -> None:
        """Recreate every key and index whose tables are all in `loaded`."""
        waiting = []
        for tables, statement in self._pending:
            if tables <= loaded:
                self._conn.execute(statement)
            else:
                waiting.append((tables, statement))
        self._pending = waiting


# Primary keys, unique keys, then foreign keys (the order they can be recreated in), with the table a foreign key
# references.
_CONSTRAINTS = """
    SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid),
           CASE WHEN contype = 'f' THEN confrelid::regclass::text END
    FROM pg_constraint
    WHERE conrelid = ANY (%s::regclass[]) AND contype IN ('p', 'u', 'f')
    ORDER BY position(contype::text IN 'puf'), conrelid::regclass::text, conname
"""
# Indexes that no constraint owns (constraint indexes go and come back with their constraint).
_PLAIN_INDEXES = """
    SELECT indrelid::regclass::text, indexrelid::regclass::text, pg_get_indexdef(indexrelid)
    FROM pg_index AS i
    WHERE indrelid = ANY (%s::regclass[])
      AND NOT EXISTS (SELECT FROM pg_constraint AS c WHERE c.conindid = i.indexrelid)
    ORDER BY 2
"""


def _copy(conn: psycopg.Connection, name: str, table: pa.Table, progress: Progress | None) -> None:
    total = table.num_rows
    statement = sql.SQL("COPY {table} ({columns}) FROM STDIN (FORMAT csv, FREEZE)").format(
        table=sql.Identifier(name), columns=sql.SQL(", ").join(sql.Identifier(c) for c in table.column_names)
    )
    if progress:
        progress(name, 0, total)
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        for offset in range(0, total, CHUNK_ROWS):
            chunk = table.slice(offset, CHUNK_ROWS)
            buffer = io.BytesIO()
            pacsv.write_csv(chunk, buffer, _CSV_OPTIONS)
            copy.write(buffer.getbuffer())
            if progress:
                progress(name, min(offset + CHUNK_ROWS, total), total)
