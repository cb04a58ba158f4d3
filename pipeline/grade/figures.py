"""What a warehouse holds, read the same way from DuckDB and Snowflake, and never written to.

The answer key and the grader share these functions: the key is what they return on the reference build, a grade
is the comparison with what they return on the student's warehouse. Mart figures are found generically — every
integer and money column is totalled, overall and per value of each low-cardinality text column — so a renamed
or added mart column is followed without code changes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, Protocol

from pipeline.naming import SOURCE_TABLES
from pipeline.settings import DuckDBWarehouse, Settings

MODEL_SCHEMAS = ("STAGING", "CORE", "MARTS")
MAX_GROUPS = 12  # a text column with at most this many values is a breakdown (country, category, segment…)
NULL_GROUP = "(null)"
CENT = Decimal("0.01")

Figure = int | str  # counts exactly; money as a string with two decimals (JSON keeps it exact)


class Reader(Protocol):
    """A read-only view of one stack's warehouse."""

    def rows(self, statement: str) -> list[tuple]: ...

    def columns(self, schemas: Sequence[str]) -> dict[str, dict[str, list[str]]]:
        """schema → relation → column names (lower-case, in order) of every table and view."""
        ...


class DuckDBReader:
    """The stack's DuckDB file opened read-only: DuckDB refuses every write on such a connection."""

    def __init__(self, path: str) -> None:
        import duckdb

        self._con = duckdb.connect(path, read_only=True)

    def rows(self, statement: str) -> list[tuple]:
        return self._con.execute(statement).fetchall()

    def columns(self, schemas: Sequence[str]) -> dict[str, dict[str, list[str]]]:
        listed = ", ".join(f"'{schema}'" for schema in schemas)
        found = self.rows(
            "SELECT upper(table_schema), lower(table_name), lower(column_name) FROM information_schema.columns "
            f"WHERE upper(table_schema) IN ({listed}) AND table_catalog = current_database() "
            "ORDER BY 1, 2, ordinal_position"
        )
        return _nest(found)

    def close(self) -> None:
        self._con.close()


class SnowflakeReader:
    """Queries on the stack's BI warehouse as the grader's role; money read as Decimal, not float."""

    def __init__(self, settings: Settings) -> None:
        from pipeline.warehouse.snowflake import connect

        self._database = settings.warehouse.database
        self._context = connect(settings, "bi", arrow_number_to_decimal=True)
        self._connection = self._context.__enter__()

    def rows(self, statement: str) -> list[tuple]:
        cursor = self._connection.cursor()
        cursor.execute(statement)
        return cursor.fetchall()

    def columns(self, schemas: Sequence[str]) -> dict[str, dict[str, list[str]]]:
        listed = ", ".join(f"'{schema}'" for schema in schemas)
        found = self.rows(
            "SELECT upper(table_schema), lower(table_name), lower(column_name) "
            f"FROM {self._database}.INFORMATION_SCHEMA.COLUMNS WHERE upper(table_schema) IN ({listed}) "
            "ORDER BY 1, 2, ordinal_position"
        )
        return _nest(found)

    def records(self, statement: str) -> list[dict[str, Any]]:
        """Rows of a SHOW/DESC statement as dicts with lower-case keys (their column names vary in case)."""
        cursor = self._connection.cursor()
        cursor.execute(statement)
        names = [d[0].lower() for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def close(self) -> None:
        self._context.__exit__(None, None, None)


@contextmanager
def open_reader(settings: Settings) -> Iterator[Reader]:
    """A read-only reader on the stack's warehouse (DuckDB file or Snowflake database)."""
    reader: DuckDBReader | SnowflakeReader
    if isinstance(settings.warehouse, DuckDBWarehouse):
        reader = DuckDBReader(str(settings.warehouse.path))
    else:
        reader = SnowflakeReader(settings)
    try:
        yield reader
    finally:
        reader.close()


def _nest(found: list[tuple]) -> dict[str, dict[str, list[str]]]:
    nested: dict[str, dict[str, list[str]]] = {}
    for schema, relation, column in found:
        nested.setdefault(schema, {}).setdefault(relation, []).append(column)
    return nested


# -- RAW -----------------------------------------------------------------------------------------------------------
def raw_counts(reader: Reader, tables: Sequence[str] = SOURCE_TABLES) -> dict[str, dict[str, int]]:
    """Per RAW table: rows, distinct ids, and ids loaded twice from the same file (duplicates)."""
    counts = {}
    for table in tables:
        rows, ids = reader.rows(f"SELECT count(*), count(DISTINCT id) FROM RAW.{table}")[0]
        (duplicates,) = reader.rows(
            f"SELECT count(*) FROM (SELECT id, _source_file FROM RAW.{table} GROUP BY 1, 2 HAVING count(*) > 1) d"
        )[0]
        counts[table] = {"rows": int(rows), "ids": int(ids), "duplicates": int(duplicates)}
    return counts


# -- marts ---------------------------------------------------------------------------------------------------------
def mart_rows(reader: Reader, mart: str, columns: Sequence[str]) -> list[tuple]:
    return reader.rows(f"SELECT {', '.join(columns)} FROM MARTS.{mart}")


def figure_columns(columns: Sequence[str], rows: list[tuple]) -> tuple[dict[str, str], list[str]]:
    """From the reference build's rows: the measure columns (name → 'count' or 'money') and the breakdowns.

    Keys and ids are not measures (a sum of ids means nothing); floats (rates, shares) follow from counts and money.
    """
    measures: dict[str, str] = {}
    breakdowns: list[str] = []
    for i, name in enumerate(columns):
        values = [row[i] for row in rows if row[i] is not None]
        if not values or name.endswith(("_key", "_id")):
            continue
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            measures[name] = "count"
        elif all(isinstance(v, Decimal) for v in values):
            measures[name] = "money"
        elif all(isinstance(v, str) for v in values) and 1 < len(set(values)) <= MAX_GROUPS:
            breakdowns.append(name)
    return measures, breakdowns


def mart_figures(
    columns: Sequence[str], rows: list[tuple], measures: dict[str, str], breakdowns: Sequence[str]
) -> dict[str, Any]:
    """Row count and measure totals of a mart, overall and per value of each breakdown column."""
    index = {name: i for i, name in enumerate(columns)}

    def totals(subset: list[tuple]) -> dict[str, Figure]:
        result: dict[str, Figure] = {"rows": len(subset)}
        for name, kind in measures.items():
            total = sum((_number(row[index[name]]) for row in subset), Decimal(0))
            result[name] = int(total) if kind == "count" else format_money(total)
        return result

    by: dict[str, dict[str, dict[str, Figure]]] = {}
    for name in breakdowns:
        groups: dict[str, list[tuple]] = {}
        for row in rows:
            value = row[index[name]]
            groups.setdefault(NULL_GROUP if value is None else str(value), []).append(row)
        by[name] = {value: totals(members) for value, members in sorted(groups.items())}
    return {"totals": totals(rows), "by": by}


def _number(value: Any) -> Decimal:
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))


def format_money(value: Decimal) -> str:
    """Money to the cent, as text (fixed format, exact in JSON)."""
    return str(value.quantize(CENT))


def flatten(figures: dict[str, Any]) -> dict[str, Figure]:
    """`{"totals": {...}, "by": {col: {value: {...}}}}` → `{"rows": …, "total_revenue [country_code=DE]": …}`."""
    flat = {name: value for name, value in figures.get("totals", {}).items()}
    for column, groups in figures.get("by", {}).items():
        for group, values in groups.items():
            for name, value in values.items():
                flat[f"{name} [{column}={group}]"] = value
    return flat
