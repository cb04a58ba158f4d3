"""The customer history a churn model learns from, read from the warehouse's CORE schema.

Three relations, each with only the columns the features need and engine-neutral types (DuckDB locally,
Snowflake on a cloud stack: same SQL, lower-case column names), plus the project's "today" (`int_as_of_date`):
- orders: one row per order (`fct_orders`), with its day, status flags and revenue;
- customers: one row per registered user (`dim_customers`) with plan, country and registration day;
- sessions: one row per logged-in web session (`int_sessions`) with the funnel steps it reached.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow as pa

from pipeline.errors import ShopstreamError
from pipeline.settings import DuckDBWarehouse, Settings, SnowflakeWarehouse

ORDERS_SQL = """
select customer_key, date_key as order_date, is_completed, is_cancelled,
       cast(lines_revenue as double) as revenue
from {core}.fct_orders
order by customer_key, order_key"""
CUSTOMERS_SQL = """
select customer_key, plan_type, country_code, registration_date
from {core}.dim_customers
order by customer_key"""
SESSIONS_SQL = """
select user_id as customer_key, session_date, has_add_to_cart, has_checkout, has_purchase
from {core}.int_sessions
where user_id is not null
order by user_id, session_id"""
AS_OF_SQL = "select as_of_date from {core}.int_as_of_date"

SCHEMAS = {
    "orders": pa.schema(
        [("customer_key", pa.int64()), ("order_date", pa.date32()), ("is_completed", pa.bool_()),
         ("is_cancelled", pa.bool_()), ("revenue", pa.float64())]
    ),
    "customers": pa.schema(
        [("customer_key", pa.int64()), ("plan_type", pa.string()), ("country_code", pa.string()),
         ("registration_date", pa.date32())]
    ),
    "sessions": pa.schema(
        [("customer_key", pa.int64()), ("session_date", pa.date32()), ("has_add_to_cart", pa.bool_()),
         ("has_checkout", pa.bool_()), ("has_purchase", pa.bool_())]
    ),
}  # fmt: skip

MISSING_CORE = "the warehouse has no CORE models yet: run `shopstream transform --stack {stack}` first"


@dataclass(frozen=True)
class History:
    orders: pa.Table
    customers: pa.Table
    sessions: pa.Table
    as_of_date: date | None  # the dbt project's "today" (None: no order at all)

    def fingerprint(self) -> str:
        """sha256 of the three relations' contents: the same history always gives the same digest."""
        digest = hashlib.sha256()
        for name in ("orders", "customers", "sessions"):
            table = getattr(self, name)
            digest.update(name.encode())
            for column in table.columns:
                digest.update(repr(column.to_pylist()).encode())
        return digest.hexdigest()


def read_history(settings: Settings) -> History:
    """The stack's CORE history, from DuckDB or Snowflake."""
    local = isinstance(settings.warehouse, DuckDBWarehouse)
    rows = _read_duckdb(settings) if local else _read_snowflake(settings)
    tables = {name: _table(name, rows[name]) for name in SCHEMAS}
    as_of = rows["as_of"][0][0] if rows["as_of"] else None
    return History(**tables, as_of_date=as_of)


def _queries(core: str) -> dict[str, str]:
    return {
        "orders": ORDERS_SQL.format(core=core),
        "customers": CUSTOMERS_SQL.format(core=core),
        "sessions": SESSIONS_SQL.format(core=core),
        "as_of": AS_OF_SQL.format(core=core),
    }


def _read_duckdb(settings: Settings) -> dict[str, list[tuple]]:
    import duckdb

    from pipeline.load.duckdb import open_warehouse

    assert isinstance(settings.warehouse, DuckDBWarehouse)  # the caller dispatched on the warehouse kind
    if not settings.warehouse.path.exists():
        raise ShopstreamError(MISSING_CORE.format(stack=settings.stack))
    with open_warehouse(settings, read_only=True) as con:
        try:
            return {name: con.execute(sql).fetchall() for name, sql in _queries("CORE").items()}
        except duckdb.CatalogException:
            raise ShopstreamError(MISSING_CORE.format(stack=settings.stack)) from None


def _read_snowflake(settings: Settings) -> dict[str, list[tuple]]:
    from snowflake.connector.errors import ProgrammingError

    from pipeline.warehouse.snowflake import connect, first_line

    assert isinstance(settings.warehouse, SnowflakeWarehouse)  # the caller dispatched on the warehouse kind
    core = f"{settings.warehouse.database}.{settings.warehouse.schemas['core']}"
    with connect(settings, "transform") as connection:
        cursor = connection.cursor()
        result = {}
        for name, sql in _queries(core).items():
            try:
                cursor.execute(sql)
                result[name] = cursor.fetchall()
            except ProgrammingError as exc:
                if "does not exist" in str(exc):
                    raise ShopstreamError(MISSING_CORE.format(stack=settings.stack)) from None
                raise ShopstreamError(f"reading CORE on Snowflake failed: {first_line(exc)}") from None
        return result


def _table(name: str, rows: list[tuple]) -> pa.Table:
    schema = SCHEMAS[name]
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [[] for _ in schema]
    return pa.Table.from_arrays(
        [pa.array([_plain(v) for v in values], field.type) for values, field in zip(columns, schema, strict=True)],
        schema=schema,
    )


def _plain(value: object) -> object:
    """Snowflake returns decimals and datetimes where DuckDB returns floats and dates: one type per column."""
    from datetime import datetime
    from decimal import Decimal

    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.date()
    return value
