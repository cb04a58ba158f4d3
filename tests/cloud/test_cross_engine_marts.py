"""One lake, two warehouses: the DuckDB target's marts equal the Snowflake target's marts.

The lake is the shared `loaded_stack` one: embedded PostgreSQL → `pipeline.generate` → `pipeline.extract`, already
loaded into the local DuckDB warehouse. The same `raw/` folder is then the stage of a cloud stack on a fakesnow
server (a real HTTP server on 127.0.0.1 running Snowflake SQL on DuckDB): the one difference from the cloud is the
stage's URL, `file://` instead of `s3://`. The real Snowflake loader copies every partition into RAW, a rerun adds
nothing, and `dbt build --target snowflake` builds the marts; every mart is compared with the DuckDB build's.

fakesnow cannot create the temporary tables dbt's unit tests need, so the Snowflake build runs models and data
tests only (unit tests run on DuckDB). fakesnow enforces no roles or privileges (see docs/cloud.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipeline.lake import Lake
from pipeline.lake_contract import manifest_key
from pipeline.load import LoadReport, load
from pipeline.naming import SOURCE_TABLES, is_live_mart
from pipeline.settings import Settings, apply_overrides, settings_from_outputs
from pipeline.transform import TransformReport, build
from pipeline.warehouse.snowflake import connection_options
from tests.helpers.cloud import cloud_outputs, create_snowflake_objects, fakesnow_endpoint, unique_stack

pytestmark = pytest.mark.slow

Query = Callable[[str], tuple[list[str], list[tuple]]]  # statement → (column names, rows)
Number = Decimal | float | int


@dataclass(frozen=True)
class MartFigures:
    """What one engine's marts hold: each mart's columns, row count and the total of each numeric column."""

    columns: dict[str, list[str]]  # mart → column names, upper-case, in order
    row_counts: dict[str, int]
    sums: dict[str, dict[str, Number | None]]  # mart → numeric column → total (None: no value)
    rows: dict[str, list[tuple]]  # mart → its rows, to show where totals differ
    orders_by_status: dict[str, int]  # CORE.FCT_ORDERS


@dataclass(frozen=True)
class SnowflakeRun:
    settings: Settings
    first_load: LoadReport
    rerun: LoadReport
    transform: TransformReport
    raw_counts: dict[str, int]
    raw_revenue: Decimal
    marts: MartFigures


def total(values: list) -> Number | None:
    """Sum of a column's values in Python, exact for Decimal and int; None for a column of non-numbers.

    Summed here, not with SQL SUM: fakesnow runs SUM(x) as SUM(TRY_CAST(x AS DOUBLE)), which Snowflake does not."""
    present = [v for v in values if v is not None]
    if not present or not all(isinstance(v, Number) and not isinstance(v, bool) for v in present):
        return None
    return sum(present)


def mart_figures(query: Query, marts: list[str]) -> MartFigures:
    """Columns, row counts and column totals of every mart, read the same way from either engine."""
    columns, row_counts, sums, contents = {}, {}, {}, {}
    for mart in marts:
        names, rows = query(f"SELECT * FROM MARTS.{mart}")
        columns[mart] = [name.upper() for name in names]
        row_counts[mart] = len(rows)
        contents[mart] = rows
        totals = {name: total([row[i] for row in rows]) for i, name in enumerate(columns[mart])}
        sums[mart] = {name: value for name, value in totals.items() if value is not None}
    _, statuses = query("SELECT order_status, count(*) FROM CORE.FCT_ORDERS GROUP BY order_status")
    return MartFigures(columns, row_counts, sums, contents, dict(statuses))


def duckdb_query(settings: Settings) -> Query:
    def query(statement: str) -> tuple[list[str], list[tuple]]:
        con = duckdb.connect(str(settings.warehouse.path), read_only=True)
        try:
            cursor = con.execute(statement)
            return [d[0] for d in cursor.description], cursor.fetchall()
        finally:
            con.close()

    return query


def snowflake_query(settings: Settings) -> Query:
    """Queries on the stack's BI warehouse, NUMBER(p,s) read as Decimal: the connector turns fixed-point numbers
    of Arrow results into floats unless asked not to (on a real account too), which would blur money totals."""
    import snowflake.connector

    def query(statement: str) -> tuple[list[str], list[tuple]]:
        connection = snowflake.connector.connect(**connection_options(settings, "bi"), arrow_number_to_decimal=True)
        try:
            cursor = connection.cursor().execute(statement)
            return [d[0] for d in cursor.description], cursor.fetchall()
        finally:
            connection.close()

    return query


def marts_of(query: Query, information_schema: str) -> list[str]:
    _, rows = query(f"SELECT table_name FROM {information_schema}.tables WHERE table_schema = 'MARTS' ORDER BY 1")
    return [name.upper() for (name,) in rows]


@pytest.fixture(scope="module")
def duckdb_marts(loaded_stack) -> MartFigures:
    local = loaded_stack.settings
    assert build(local).ok
    query = duckdb_query(local)
    return mart_figures(query, marts_of(query, "information_schema"))


@pytest.fixture(scope="module")
def snowflake_run(loaded_stack) -> Iterator[SnowflakeRun]:
    """A cloud stack on fakesnow whose stage is the local stack's lake: loaded twice, then built with dbt."""
    local, extract_date = loaded_stack
    stack = unique_stack()
    with pytest.MonkeyPatch.context() as env, fakesnow_endpoint(env):
        env.setenv("SNOWFLAKE_CONNECT_TIMEOUT", "30")
        outputs = cloud_outputs(stack)
        settings = apply_overrides(settings_from_outputs(stack, outputs, "test outputs"), lake_uri=local.lake.uri)
        create_snowflake_objects(settings, Path(local.lake.uri) / "raw")

        first_load = load(settings, extract_date)
        rerun = load(settings, extract_date)
        transform = build(settings, exclude="resource_type:unit_test")

        query = snowflake_query(settings)
        raw_counts = {table: query(f"SELECT count(*) FROM RAW.{table}")[1][0][0] for table in SOURCE_TABLES}
        raw_revenue = total([amount for (amount,) in query("SELECT total_amount FROM RAW.ORDERS")[1]])
        marts = mart_figures(query, marts_of(query, f"{settings.warehouse.database}.INFORMATION_SCHEMA"))
        yield SnowflakeRun(settings, first_load, rerun, transform, raw_counts, raw_revenue, marts)


def test_loader_copies_every_partition_of_the_lake(loaded_stack, snowflake_run: SnowflakeRun) -> None:
    local, extract_date = loaded_stack
    manifest = Lake.from_settings(local.lake).read_json(manifest_key(extract_date))
    files = {entry["key"] for entry in manifest["files"]}
    rows_in_lake = {table: 0 for table in SOURCE_TABLES}
    for entry in manifest["files"]:
        rows_in_lake[entry["table"]] += entry["rows"]
    report = snowflake_run.first_load

    assert report.bad_rows == [] and report.files_skipped == 0
    assert report.files_loaded == len(files) and report.files_seen == len(files)
    assert {table: report.tables[table].rows_loaded for table in SOURCE_TABLES} == rows_in_lake
    assert snowflake_run.raw_counts == rows_in_lake
    local_raw = duckdb_query(local)
    assert snowflake_run.raw_counts == {
        table: local_raw(f"SELECT count(*) FROM RAW.{table}")[1][0][0] for table in SOURCE_TABLES
    }
    raw_revenue = local_raw("SELECT sum(total_amount) FROM RAW.orders")[1][0][0]
    assert isinstance(snowflake_run.raw_revenue, Decimal) and snowflake_run.raw_revenue == raw_revenue


def test_rerun_skips_every_loaded_file(snowflake_run: SnowflakeRun) -> None:
    rerun = snowflake_run.rerun
    assert rerun.rows_loaded == 0 and rerun.files_loaded == 0 and rerun.bad_rows == []
    assert rerun.files_skipped == snowflake_run.first_load.files_loaded


def test_snowflake_build_passes_models_and_data_tests(snowflake_run: SnowflakeRun) -> None:
    report = snowflake_run.transform
    assert report.target == "snowflake" and report.ok
    assert report.skipped == 0 and report.tests_failed == 0 and report.tests_warned == 0
    assert report.tests_passed > 0


def test_both_engines_build_the_same_marts(duckdb_marts: MartFigures, snowflake_run: SnowflakeRun) -> None:
    assert len(duckdb_marts.columns) >= 6
    assert snowflake_run.marts.columns == duckdb_marts.columns


def test_mart_row_counts_are_equal(duckdb_marts: MartFigures, snowflake_run: SnowflakeRun) -> None:
    # The live marts fill only while a stream runs; every batch mart must have rows to compare.
    batch = {mart: count for mart, count in duckdb_marts.row_counts.items() if not is_live_mart(mart)}
    assert batch and all(count > 0 for count in batch.values())
    assert snowflake_run.marts.row_counts == duckdb_marts.row_counts


def test_mart_sums_are_equal(duckdb_marts: MartFigures, snowflake_run: SnowflakeRun) -> None:
    """Money and counts exactly (Decimal and integer totals); ratios and averages (doubles) to rounding."""
    for mart, expected in duckdb_marts.sums.items():
        actual = snowflake_run.marts.sums[mart]
        assert actual.keys() == expected.keys(), mart
        for column, value in expected.items():
            where = f"MARTS.{mart}.{column}; rows only on DuckDB: {rows_apart(duckdb_marts, snowflake_run.marts, mart)}"
            if isinstance(value, float):
                assert isinstance(actual[column], float), where
                assert actual[column] == pytest.approx(value, rel=1e-12), where
            else:
                assert type(actual[column]) is type(value) and actual[column] == value, where
    revenue = duckdb_marts.sums["MART_SALES_OVERVIEW"]["TOTAL_REVENUE"]
    assert isinstance(revenue, Decimal) and revenue > 0


def rows_apart(left: MartFigures, right: MartFigures, mart: str, shown: int = 5) -> list[tuple]:
    """A few rows of `mart` that `left` holds and `right` does not (for a readable failure)."""
    others = {tuple(map(str, row)) for row in right.rows[mart]}
    return [row for row in left.rows[mart] if tuple(map(str, row)) not in others][:shown]


def test_order_counts_per_status_are_equal(duckdb_marts: MartFigures, snowflake_run: SnowflakeRun) -> None:
    assert sum(duckdb_marts.orders_by_status.values()) == snowflake_run.raw_counts["orders"]
    assert snowflake_run.marts.orders_by_status == duckdb_marts.orders_by_status
