"""Erase a person from the warehouse: RAW rows, load history and the SCD2 snapshots, on DuckDB or Snowflake.

RAW.users keeps the person's rows anonymised exactly as the lake files were (so a reload changes nothing);
RAW.crm_contacts loses them; the snapshot tables lose every version of the person's history. The models built from
these (staging views, CORE and MARTS tables) are rebuilt by `dbt build` afterwards. `residual_copies` then reads
every text column of every table and view in every schema for the person's emails.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from pipeline.privacy.erasure import ERASED_EMAIL_DOMAIN, USER_ERASURE
from pipeline.privacy.lake_erasure import Subject
from pipeline.settings import DuckDBWarehouse, Settings

SNAPSHOT_SCHEMA = "CORE"
SNAPSHOT_PREFIX = "snp_"
SCHEMAS = ("RAW", "STAGING", "CORE", "MARTS")


class Cursor(Protocol):
    def execute(self, sql: str, params: Any = ...) -> Any: ...
    def fetchall(self) -> list[tuple]: ...


@contextmanager
def _cursor(settings: Settings) -> Iterator[tuple[Any, str]]:
    """(cursor, parameter style) on the stack's warehouse; DuckDB uses `?`, the Snowflake connector `%s`."""
    if isinstance(settings.warehouse, DuckDBWarehouse):
        from pipeline.load.duckdb import open_warehouse

        with open_warehouse(settings) as con:
            yield con, "?"
        return
    from pipeline.warehouse.snowflake import connect

    with connect(settings, "transform") as connection:
        yield connection.cursor(), "%s"


def warehouse_exists(settings: Settings) -> bool:
    return not isinstance(settings.warehouse, DuckDBWarehouse) or settings.warehouse.path.exists()


def _rows(cursor: Any, sql: str, params: list | None = None) -> list[tuple]:
    cursor.execute(sql, params or [])
    return cursor.fetchall()


def _count(cursor: Any, sql: str, params: list) -> int:
    return int(_rows(cursor, f"SELECT count(*) FROM ({sql}) AS matched", params)[0][0])


def _relations(cursor: Any, kinds: tuple[str, ...]) -> list[tuple[str, str]]:
    kinds_sql = ", ".join(f"'{k}'" for k in kinds)
    return [
        (schema.upper(), name)
        for schema, name in _rows(
            cursor,
            "SELECT table_schema, table_name FROM information_schema.tables "
            f"WHERE upper(table_schema) IN ('RAW', 'STAGING', 'CORE', 'MARTS') AND table_type IN ({kinds_sql})",
        )
    ]


def _columns(cursor: Any, schema: str, table: str) -> dict[str, str]:
    rows = _rows(
        cursor,
        "SELECT column_name, data_type FROM information_schema.columns "
        f"WHERE upper(table_schema) = '{schema}' AND upper(table_name) = upper('{table}')",
    )
    return {name.lower(): str(dtype).upper() for name, dtype in rows}


def _is_text(dtype: str) -> bool:
    return any(kind in dtype for kind in ("VARCHAR", "TEXT", "STRING", "JSON"))


def _in(style: str, values: list) -> str:
    return "(" + ", ".join([style] * len(values)) + ")"


def emails_of_users(settings: Settings, user_ids: frozenset[int]) -> frozenset[str]:
    """Emails RAW.users still holds for these users: after a crash the source and the lake may already be erased,
    and the warehouse is then the last place that knows which CRM rows and copies belong to the person."""
    if not user_ids or not warehouse_exists(settings):
        return frozenset()
    ids = sorted(user_ids)
    with _cursor(settings) as (cursor, style):
        if ("RAW", "users") not in {(s, n.lower()) for s, n in _relations(cursor, ("BASE TABLE",))}:
            return frozenset()
        rows = _rows(cursor, f"SELECT DISTINCT lower(trim(email)) FROM RAW.users WHERE id IN {_in(style, ids)}", ids)
    return frozenset(e for (e,) in rows if e and not e.endswith(f"@{ERASED_EMAIL_DOMAIN}"))


def erase_from_warehouse(settings: Settings, subject: Subject, rewritten: dict[str, dict]) -> dict[str, int]:
    """Anonymise/delete the person's RAW rows, correct the load history of rewritten files, drop their history."""
    result = {"raw_rows_anonymised": 0, "raw_rows_deleted": 0, "history_rows_deleted": 0, "load_history_updated": 0}
    if not warehouse_exists(settings):
        return result
    ids, emails = sorted(subject.user_ids), sorted(subject.emails)
    with _cursor(settings) as (cursor, style):
        tables = {(s, n.lower()): n for s, n in _relations(cursor, ("BASE TABLE",))}
        cursor.execute("BEGIN")
        try:
            if ("RAW", "users") in tables:
                users = f'RAW."{tables[("RAW", "users")]}"'
                by_email = f"lower(trim(email)) IN {_in(style, emails)}" if emails else "false"
                where = f"({by_email}" + (f" OR id IN {_in(style, ids)})" if ids else ")")
                match = f"{where} AND email <> {style}"
                params = [*emails, *ids, subject.placeholder_email]
                result["raw_rows_anonymised"] = _count(cursor, f"SELECT 1 FROM {users} WHERE {match}", params)
                sets = ", ".join(
                    f"{column} = {style if value == '{email}' else 'NULL'}" for column, value in USER_ERASURE.items()
                )
                cursor.execute(f"UPDATE {users} SET {sets} WHERE {match}", [subject.placeholder_email, *params])
            for (schema, lowered), name in tables.items() if emails else ():
                if schema != "RAW" or lowered in ("users", "_load_history"):
                    continue
                if "email" not in _columns(cursor, schema, name):
                    continue
                target = f'RAW."{name}" WHERE lower(trim(email)) IN {_in(style, emails)}'
                result["raw_rows_deleted"] += _count(cursor, f"SELECT 1 FROM {target}", emails)
                cursor.execute(f"DELETE FROM {target}", emails)
            for (schema, lowered), name in tables.items() if emails else ():
                if schema != "RAW" or not lowered.startswith("_"):
                    continue
                text = [c for c, dtype in _columns(cursor, schema, name).items() if _is_text(dtype)]
                if text:  # load errors keep rejected records verbatim: drop those that quote the person
                    condition = " OR ".join(f"contains(lower({c}), {style})" for c in text for _ in emails)
                    params = [e for _ in text for e in emails]
                    target = f'RAW."{name}" WHERE {condition}'
                    result["raw_rows_deleted"] += _count(cursor, f"SELECT 1 FROM {target}", params)
                    cursor.execute(f"DELETE FROM {target}", params)
            for (schema, lowered), name in tables.items():
                is_history = ids and schema == SNAPSHOT_SCHEMA and lowered.startswith(SNAPSHOT_PREFIX)
                if is_history and "user_id" in _columns(cursor, schema, name):
                    target = f'{schema}."{name}" WHERE user_id IN {_in(style, ids)}'
                    result["history_rows_deleted"] += _count(cursor, f"SELECT 1 FROM {target}", ids)
                    cursor.execute(f"DELETE FROM {target}", ids)
            if ("RAW", "_load_history") in tables:
                for key, facts in rewritten.items():
                    cursor.execute(
                        f"UPDATE RAW._LOAD_HISTORY SET sha256 = {style}, rows = {style} WHERE file = {style}",
                        [facts["sha256"], facts["rows"], key],
                    )
                    result["load_history_updated"] += 1
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
    return result


def residual_copies(settings: Settings, subject: Subject) -> list[str]:
    """`SCHEMA.relation.column` of every text column, in any table or view of any schema, holding an email."""
    if not warehouse_exists(settings) or not subject.emails:
        return []
    found = []
    with _cursor(settings) as (cursor, style):
        for schema, name in _relations(cursor, ("BASE TABLE", "VIEW")):
            for column, dtype in _columns(cursor, schema, name).items():
                if not _is_text(dtype):
                    continue
                condition = " OR ".join([f"contains(lower({column}), {style})"] * len(subject.emails))
                sql = f'SELECT 1 FROM {schema}."{name}" WHERE {condition}'
                if _count(cursor, sql, sorted(subject.emails)):
                    found.append(f"{schema}.{name}.{column}")
    return found
