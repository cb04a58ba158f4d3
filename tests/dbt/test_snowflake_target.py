"""The `snowflake` target end to end on a fakesnow server (a real HTTP server on 127.0.0.1 that runs Snowflake SQL
on DuckDB): the Snowflake implementations of the cross-database macros, the profile's endpoint variables and
`pipeline.transform` choosing the target from the stack. fakesnow cannot create the temporary tables dbt's unit
tests need, so this build runs models and data tests; the unit tests run on DuckDB (test_dbt_project.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.naming import StackNames
from pipeline.settings import LakeSettings, Settings, SnowflakeWarehouse, SourceSettings
from pipeline.transform import TransformReport, build
from tests.dbt.raw_bootstrap import RAW_DDL, completed_revenue, snapshots, source_file
from tests.helpers.cloud import fakesnow_connection, fakesnow_endpoint

pytestmark = pytest.mark.slow

STACK = "sfdbt"


def snowflake_stack(home: Path, stack: str = STACK) -> Settings:
    """A cloud stack on the fake account. fakesnow keeps its databases for the whole process, whatever server
    serves them: a module that builds other models there (the live ones, incrementally) names its own stack."""
    names = StackNames(stack)
    return Settings(
        stack=stack,
        origin="test",
        home=home,
        source=SourceSettings(database=names.postgres_database),
        lake=LakeSettings(uri=str(home / "lake")),
        warehouse=SnowflakeWarehouse(
            account="fakesnow", database=names.database, schemas=names.schemas, warehouses=names.warehouses,
            role=names.role, stage=names.stage, parquet_format=names.parquet_format, csv_format=names.csv_format,
        ),
    )  # fmt: skip


def fill_raw(cursor, database: str) -> dict[str, list[dict]]:
    """RAW on the fake account: the hand-made snapshots, loaded like the Snowflake loader would."""
    loads, latest = snapshots()
    cursor.execute(f"CREATE DATABASE IF NOT EXISTS {database}")
    cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {database}.RAW")
    for table, ddl in RAW_DDL.items():
        cursor.execute(
            f"CREATE OR REPLACE TABLE {database}.RAW.{table} ({ddl}, _source_file VARCHAR, _loaded_at TIMESTAMP)"
        )
    for snapshot in loads:
        for table, rows in snapshot.rows.items():
            columns = list(rows[0])
            placeholders = ", ".join(["%s"] * (len(columns) + 2))
            cursor.executemany(
                f"INSERT INTO {database}.RAW.{table} ({', '.join(columns)}, _source_file, _loaded_at) "
                f"VALUES ({placeholders})",
                [
                    (*(row[c] for c in columns), source_file(table, snapshot.extract_date), snapshot.loaded_at)
                    for row in rows
                ],
            )
    return latest


@pytest.fixture(scope="module")
def snowflake_build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    settings = snowflake_stack(tmp_path_factory.mktemp("sf"))
    database = settings.warehouse.database
    with pytest.MonkeyPatch.context() as env, fakesnow_endpoint(env) as server:
        env.setenv("SNOWFLAKE_CONNECT_TIMEOUT", "30")
        env.setenv("SHOPSTREAM_PRIVACY_SALT", "salt-of-the-snowflake-test-stack")  # a cloud stack's secret
        env.delenv("SHOPSTREAM_WAREHOUSE", raising=False)
        connection = fakesnow_connection(server, database)
        try:
            cursor = connection.cursor()
            latest = fill_raw(cursor, database)
            report = build(settings, exclude="resource_type:unit_test")
            yield settings, latest, report, cursor
        finally:
            connection.close()


def test_models_and_data_tests_pass_on_snowflake(snowflake_build):
    _, _, report, _ = snowflake_build
    assert isinstance(report, TransformReport) and report.target == "snowflake"
    assert report.ok and report.skipped == 0
    assert report.models_built == sum(1 for n in report.nodes if n.resource_type in ("model", "snapshot")) >= 19
    assert report.tests_passed == sum(1 for n in report.nodes if n.resource_type == "test") >= 30
    # The Snowflake implementations of the snapshot-date macro and the load-errors check ran and passed.
    assert report.node("assert_revenue_reconciles_across_layers").status == "pass"
    assert report.node("assert_latest_snapshots_have_no_rejected_rows").status == "pass"


def test_snowflake_marts_hold_the_expected_figures(snowflake_build):
    settings, latest, _, cursor = snowflake_build
    database = settings.warehouse.database
    revenue = cursor.execute(
        f"SELECT CAST(sum(total_revenue) AS DECIMAL(18, 2)) FROM {database}.MARTS.MART_SALES_OVERVIEW"
    ).fetchone()[0]
    assert revenue == completed_revenue(latest)
    staged = dict(cursor.execute(f"SELECT order_id, order_status FROM {database}.STAGING.STG_ORDERS").fetchall())
    assert staged == {row["id"]: row["status"].upper() for row in latest["orders"]}


def test_snowflake_json_and_calendar_macros(snowflake_build):
    settings, latest, _, cursor = snowflake_build
    database = settings.warehouse.database
    carts = cursor.execute(
        f"SELECT event_id, product_id, quantity, device FROM {database}.STAGING.STG_EVENTS "
        "WHERE event_type = 'add_to_cart'"
    ).fetchall()
    expected = {
        (e["id"], meta["product_id"], meta["quantity"], meta["device"])
        for e in latest["events"]
        if e["event_type"] == "add_to_cart" and (meta := json.loads(e["metadata"]))
    }
    assert set(carts) == expected
    days, low, high = cursor.execute(
        f"SELECT count(*), min(date_key), max(date_key) FROM {database}.CORE.DIM_DATE"
    ).fetchone()
    assert days == (high - low).days + 1
    weekday = dict(cursor.execute(f"SELECT date_key, day_name FROM {database}.CORE.DIM_DATE").fetchall())
    assert all(weekday[day] == day.strftime("%A") for day in weekday)


# -- Snowflake semantics fakesnow (DuckDB underneath) cannot show: guarded in SQL, checked in the compiled SQL -------
_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
_STRING = re.compile(r"'(?:[^']|'')*'")
_DESC_WITHOUT_NULLS = re.compile(r"\bdesc\b(?!\s+nulls\s+(first|last)\b)", re.I)
_WEEK_TRUNC = re.compile(r"\bdate_trunc\s*\(\s*'?week", re.I)
_LEAST_GREATEST = re.compile(r"\b(least|greatest)\s*\(", re.I)
# Floats divide alike on both engines; integer quotients are only ever floored (equal on both). Decimals may not
# be divided: DuckDB turns decimal ÷ number into a double, Snowflake keeps it exact, and they round differently.
_CAST_BEFORE = re.compile(r"\bas\s+(double|float|bigint)\s*\)\s*$", re.I)
_CAST_AFTER = re.compile(r"^\s*cast\s*\(", re.I)


def _arguments(sql: str, open_paren: int) -> list[str]:
    """The top-level comma-separated arguments of the call whose '(' is at `open_paren`."""
    depth, start, parts = 0, open_paren + 1, []
    for i in range(open_paren, len(sql)):
        if sql[i] == "(":
            depth += 1
        elif sql[i] == ")":
            depth -= 1
            if depth == 0:
                return [*parts, sql[start:i].strip()]
        elif sql[i] == "," and depth == 1:
            parts.append(sql[start:i].strip())
            start = i + 1
    return parts


def semantics_offenders(sql: str) -> list[str]:
    """Constructs that give different results on Snowflake than on DuckDB (and so on fakesnow):
    - `ORDER BY … DESC` without NULLS FIRST/LAST: Snowflake puts NULLs first on DESC, DuckDB last;
    - LEAST/GREATEST with an argument not wrapped in COALESCE: NULL on Snowflake if any argument is NULL;
    - DATE_TRUNC('week'): follows Snowflake's WEEK_START parameter;
    - a division whose operands are not both explicit casts to a float or an integer: exact on Snowflake, floating
      point on DuckDB."""
    without_comments = _COMMENT.sub(" ", sql)
    code = _STRING.sub("''", without_comments)  # a '/' or 'desc' inside a string literal is no operator
    found = [
        f"DESC without NULLS: …{code[max(0, m.start() - 60) : m.end()]}" for m in _DESC_WITHOUT_NULLS.finditer(code)
    ]
    found += [f"week truncation: {m.group(0)}" for m in _WEEK_TRUNC.finditer(without_comments)]
    for call in _LEAST_GREATEST.finditer(code):
        bare = [a for a in _arguments(code, call.end() - 1) if not a.lower().startswith("coalesce(")]
        found += [f"{call.group(1)} argument without COALESCE: {a[:60]}" for a in bare]
    for i, char in enumerate(code):
        if char == "/" and not (_CAST_BEFORE.search(code[:i]) and _CAST_AFTER.match(code[i + 1 :])):
            found.append(f"division without an explicit cast: …{code[max(0, i - 60) : i + 20]}")
    return found


def test_semantics_scanner_flags_each_pattern():
    bad = """select row_number() over (order by revenue desc) as r, least(a, coalesce(b, 0)) as l,
             date_trunc('week', d) as w, cast(amount as decimal(18, 2)) / cast(n as bigint) as x from t"""
    assert [finding.split(":")[0] for finding in semantics_offenders(bad)] == [
        "DESC without NULLS", "week truncation", "least argument without COALESCE", "division without an explicit cast",
    ]  # fmt: skip
    good = """select row_number() over (order by revenue desc nulls last) as r, least(coalesce(a, 0), coalesce(b, 0)),
              cast(amount as float) / cast(n as float) as x, '/dt=' as s -- a / b desc"""
    assert semantics_offenders(good) == []


def test_compiled_snowflake_sql_guards_snowflake_semantics(snowflake_build):
    """The SQL dbt compiled for the snowflake target (every model and test of the fakesnow build) uses none of the
    constructs whose result differs on a real Snowflake account."""
    settings, _, _, _ = snowflake_build
    compiled = sorted((settings.home / "dbt" / "target" / "compiled").rglob("*.sql"))
    assert any(path.name == "mart_customer_ltv.sql" for path in compiled)
    offenders = {path.name: found for path in compiled if (found := semantics_offenders(path.read_text()))}
    assert offenders == {}
