"""The live models on the `snowflake` target, on a fakesnow server (Snowflake SQL run by DuckDB on 127.0.0.1).

RAW holds stream rows as Snowpipe leaves them: the loader's own DDL (`create_raw_table`), `_SOURCE_FILE` relative to
the stage (`stream/<table>/…`). A first batch builds the live marts; a second batch (new orders, a status change, a
stock move, a cancellation) makes them incremental, so dbt compiles their incremental branch and `merge`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pipeline.load.snowflake_sql import create_raw_table
from pipeline.settings import Settings
from pipeline.stream.tables import STREAM_SCHEMAS, STREAM_TABLES
from pipeline.transform import DBT_PROJECT_DIR, TransformError, TransformReport, build, dbt_env, dbt_paths, runner
from tests.dbt.test_snowflake_target import _COMMENT, _STRING, semantics_offenders, snowflake_stack
from tests.helpers.cloud import fakesnow_connection, fakesnow_endpoint

pytestmark = pytest.mark.slow

LIVE = "path:models/live"
UNIT_TESTS = "resource_type:unit_test"
LIVE_MODELS = ("mart_live_orders", "mart_live_hourly", "mart_live_stock")
FIRST_LOAD, SECOND_LOAD = datetime(2026, 1, 1, 10, 0, 5), datetime(2026, 1, 1, 10, 0, 10)
# Functions DuckDB has and Snowflake has not (or spells differently): none may reach the Snowflake SQL.
DUCKDB_ONLY = re.compile(
    r"\b(?:strftime|strptime|epoch_ms|epoch|list_\w+|string_agg|regexp_matches|arg_max|arg_min|struct_pack|"
    r"unnest|date_diff|today|make_timestamp|hugeint)\b|::",
    re.I,
)


def _file(table: str, batch: int) -> str:
    """METADATA$FILENAME as Snowpipe records it: relative to the stage, which points at the lake's raw/."""
    return f"stream/{table}/dt=2026-01-01/batch-{batch:08d}.parquet"


BATCHES: dict[int, dict[str, list[tuple]]] = {
    1: {
        "orders": [
            (1, 10, datetime(2026, 1, 1, 9, 5), datetime(2026, 1, 1, 9, 5), Decimal("20.00"), "paid", "FR", "card"),
            (
                2,
                11,
                datetime(2026, 1, 1, 9, 6),
                datetime(2026, 1, 1, 9, 6),
                Decimal("15.50"),
                "cancelled",
                "DE",
                "card",
            ),
        ],
        "products": [
            (7, 1, "Lamp", None, "Home", Decimal("10.00"), 3, datetime(2025, 1, 1), datetime(2026, 1, 1, 9, 5))
        ],
        "order_cancellations": [(2, 7, "out_of_stock", 5, 3, datetime(2026, 1, 1, 9, 6))],
    },
    2: {
        "orders": [
            # order 1 ships: its new version must replace the old one, not add a row
            (1, 10, datetime(2026, 1, 1, 9, 5), datetime(2026, 1, 1, 10, 5), Decimal("20.00"), "shipped", "FR", "card"),
            (3, 12, datetime(2026, 1, 1, 10, 1), datetime(2026, 1, 1, 10, 1), Decimal("7.25"), "paid", "FR", "paypal"),
            (4, 13, datetime(2026, 1, 1, 10, 2), None, Decimal("9.00"), "cancelled", "ES", "card"),
        ],
        "products": [
            (7, 1, "Lamp", None, "Home", Decimal("10.00"), 0, datetime(2025, 1, 1), datetime(2026, 1, 1, 10, 1))
        ],
        "order_cancellations": [(4, 7, "out_of_stock", 1, 0, datetime(2026, 1, 1, 10, 2))],
    },
}


def insert_batch(cursor, database: str, batch: int, loaded_at: datetime) -> None:
    for table, rows in BATCHES[batch].items():
        columns = [field.name for field in STREAM_SCHEMAS[table]]
        names = ", ".join([*columns, "_SOURCE_FILE", "_LOADED_AT"])
        placeholders = ", ".join(["%s"] * (len(columns) + 2))
        cursor.executemany(
            f"INSERT INTO {database}.RAW.{table} ({names}) VALUES ({placeholders})",
            [(*row, _file(table, batch), loaded_at) for row in rows],
        )


@dataclass
class LiveRun:
    settings: Settings
    cursor: Any
    first: TransformReport
    second: TransformReport | TransformError
    compiled: dict[str, str]  # model → its SELECT compiled once the tables exist: the incremental branch
    configs: dict[str, dict]  # model → its config as dbt resolved it for the snowflake target
    log: Path

    def rows(self, model: str) -> list[tuple]:
        return self.cursor.execute(
            f"SELECT * FROM {self.settings.warehouse.database}.MARTS.{model} ORDER BY 1"
        ).fetchall()


def _compile(settings: Settings) -> tuple[dict[str, str], dict[str, dict]]:
    """`dbt compile` of the live models against the snowflake target: (compiled SQL, resolved config) per model."""
    env = dbt_env(settings)
    target_path, log_path = dbt_paths(settings)
    compile_path = target_path / "live-compile"
    command = [
        "compile", "--select", LIVE,
        "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target", env["SHOPSTREAM_DBT_TARGET"], "--target-path", str(compile_path),
        "--log-path", str(log_path), "--write-json",
    ]  # fmt: skip
    _, errors = runner.invoke(command, env)
    assert not errors, errors
    compiled = {path.stem: path.read_text() for path in (compile_path / "compiled").rglob("mart_live_*.sql")}
    nodes = json.loads((compile_path / "manifest.json").read_text())["nodes"]
    configs = {node["name"]: node["config"] for node in nodes.values() if node["name"] in LIVE_MODELS}
    return compiled, configs


@pytest.fixture(scope="module")
def live_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRun]:
    settings = snowflake_stack(tmp_path_factory.mktemp("sflive"), stack="sflive")
    database = settings.warehouse.database
    with pytest.MonkeyPatch.context() as env, fakesnow_endpoint(env) as server:
        env.setenv("SNOWFLAKE_CONNECT_TIMEOUT", "30")
        env.setenv("SHOPSTREAM_PRIVACY_SALT", "salt-of-the-live-snowflake-test")
        env.delenv("SHOPSTREAM_WAREHOUSE", raising=False)
        connection = fakesnow_connection(server, database)
        try:
            cursor = connection.cursor()
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS {database}")
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {database}.RAW")
            for table in STREAM_TABLES:  # the DDL the Pulumi program and the loader run
                cursor.execute(create_raw_table(table, STREAM_SCHEMAS[table], database))
            insert_batch(cursor, database, 1, FIRST_LOAD)
            first = build(settings, select=LIVE, exclude=UNIT_TESTS)
            insert_batch(cursor, database, 2, SECOND_LOAD)
            try:
                second: TransformReport | TransformError = build(settings, select=LIVE, exclude=UNIT_TESTS)
            except TransformError as exc:  # what fakesnow cannot run is checked in the test that needs it
                second = exc
            compiled, configs = _compile(settings)
            yield LiveRun(settings, cursor, first, second, compiled, configs, dbt_paths(settings)[1] / "dbt.log")
        finally:
            connection.close()


def test_the_first_batch_builds_the_live_marts_on_snowflake(live_run):
    assert live_run.first.target == "snowflake" and live_run.first.ok
    assert live_run.first.models_built == len(LIVE_MODELS)
    assert live_run.first.tests_passed >= 6  # unique and not_null keys, accepted statuses
    hour = datetime(2026, 1, 1, 9)
    orders = live_run.rows("mart_live_orders")
    assert [(o[0], o[3], o[4], o[5], o[6], o[7]) for o in orders] == [
        (1, hour, "PAID", Decimal("20.00"), False, None),
        (2, hour, "CANCELLED", Decimal("15.50"), True, 7),
    ]
    assert [(h[0], int(h[1]), int(h[2]), h[3], int(h[4])) for h in live_run.rows("mart_live_hourly")] == [
        (hour, 2, 1, Decimal("20.00"), 1)
    ]
    assert [(p[0], p[1], p[3], p[4]) for p in live_run.rows("mart_live_stock")] == [(7, 3, 1, False)]


def test_the_live_models_merge_on_snowflake(live_run):
    """merge on Snowflake (one atomic statement per refresh), keyed like the DuckDB delete+insert."""
    keys = {"mart_live_orders": "order_id", "mart_live_hourly": "order_hour", "mart_live_stock": "product_id"}
    for model, key in keys.items():
        config = live_run.configs[model]
        assert (config["materialized"], config["incremental_strategy"], config["unique_key"]) == (
            "incremental", "merge", key
        )  # fmt: skip
    # fakesnow (DuckDB) cannot create the schema-qualified temporary relation dbt-snowflake merges from: the second
    # refresh stops there. The incremental SELECT it would merge is run on fakesnow in the next test.
    if isinstance(live_run.second, TransformError):
        assert "TEMPORARY table names can *only* use the" in live_run.log.read_text()
    else:  # a fakesnow that can: the merged marts hold the second batch
        assert [o[4] for o in live_run.rows("mart_live_orders")] == ["SHIPPED", "CANCELLED", "PAID", "CANCELLED"]


def _upsert(cursor, database: str, model: str, key: str, select: str) -> list[tuple]:
    """What dbt's merge does with the incremental SELECT (rows keyed like the model replace the old ones)."""
    rows = cursor.execute(f"SELECT * FROM ({select}) ORDER BY 1").fetchall()
    target = f"{database}.MARTS.{model}"
    cursor.execute(f"DELETE FROM {target} WHERE {key} IN (SELECT {key} FROM ({select}))")
    cursor.execute(f"INSERT INTO {target} SELECT * FROM ({select})")
    return rows


def test_the_incremental_branch_reads_only_the_new_batch_on_snowflake(live_run):
    """The compiled incremental SELECTs, run on fakesnow in dependency order, each yield exactly the rows the
    second batch changes; merged, the marts hold both batches."""
    database, cursor = live_run.settings.warehouse.database, live_run.cursor
    if not isinstance(live_run.second, TransformError):
        pytest.fail("the second refresh merged on fakesnow: compare its marts instead of re-running its SELECTs")
    nine, ten = datetime(2026, 1, 1, 9), datetime(2026, 1, 1, 10)
    orders = _upsert(cursor, database, "mart_live_orders", "order_id", live_run.compiled["mart_live_orders"])
    assert [(o[0], o[4], o[6]) for o in orders] == [(1, "SHIPPED", False), (3, "PAID", False), (4, "CANCELLED", True)]
    stock = _upsert(cursor, database, "mart_live_stock", "product_id", live_run.compiled["mart_live_stock"])
    assert [(p[0], p[1], p[3], p[4]) for p in stock] == [(7, 0, 2, True)]
    hourly = _upsert(cursor, database, "mart_live_hourly", "order_hour", live_run.compiled["mart_live_hourly"])
    assert [(h[0], int(h[1]), int(h[2]), h[3], int(h[4])) for h in hourly] == [
        (nine, 2, 1, Decimal("20.00"), 1),  # order 1 shipped: still accepted; order 2 still cancelled for stock
        (ten, 2, 1, Decimal("7.25"), 1),
    ]
    assert len(live_run.rows("mart_live_orders")) == 4


def _code(sql: str) -> str:
    return _STRING.sub("''", _COMMENT.sub(" ", sql))


def test_compiled_live_sql_is_snowflake_correct(live_run):
    """NULL ordering spelled out, no LEAST/GREATEST over NULLs, no inexact division, no DuckDB-only function or
    `::` cast, the incremental filter present, and names resolved into the stack's Snowflake database."""
    database = live_run.settings.warehouse.database
    assert set(live_run.compiled) == set(LIVE_MODELS)
    for model, sql in live_run.compiled.items():
        assert semantics_offenders(sql) == [], model
        assert DUCKDB_ONLY.findall(_code(sql)) == [], model
        assert f"from {database}.MARTS.{model}" in sql, model  # the incremental branch reads the model itself
        assert f"{database}.RAW." in sql or model == "mart_live_hourly", model
    assert "desc nulls last" in live_run.compiled["mart_live_orders"]


def test_duckdb_only_scanner_flags_duckdb_constructs():
    assert DUCKDB_ONLY.findall(_code("select x::int, strftime(d, '%Y'), arg_max(a, b) from t -- epoch")) != []
    assert len(DUCKDB_ONLY.findall(_code("select x::int, strftime(d, '%Y'), arg_max(a, b) from t"))) == 3
    assert DUCKDB_ONLY.findall(_code("select cast(x as integer), date_trunc('hour', d) from t -- x::int")) == []
