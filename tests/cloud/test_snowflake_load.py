"""The Snowflake loader's real statements against a fakesnow server (no Snowflake account offline).

The stack's objects are created under the names of the Pulumi outputs contract; the only difference from the
cloud is the stage's URL: `file://<local lake>/raw/` instead of `s3://<bucket>/raw/`. fakesnow does not
enforce roles or privileges, and treats ON_ERROR = CONTINUE as ABORT_STATEMENT (see conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from pipeline.errors import ConfigError
from pipeline.extract import ExtractedTable, ExtractReport, manifest_entries
from pipeline.lake import Lake
from pipeline.lake_contract import Manifest, part_key, stage_path, write_manifest
from pipeline.load import snowflake_sql as sql
from pipeline.load.snowflake import load_snowflake
from pipeline.naming import SOURCE_TABLES, StackNames
from pipeline.settings import apply_overrides, settings_from_outputs
from pipeline.warehouse.snowflake import connect
from tests.helpers.cloud import cloud_outputs, create_snowflake_objects, sample_table, unique_stack

ROWS = 4
DAY_1 = "2026-01-10"
DAY_2 = "2026-01-11"


def publish(lake: Lake, extract_date: str, tables: dict[str, pa.Table]) -> dict[str, str]:
    """Write one date's files and manifest the way `extract` does; returns each table's key."""
    report = ExtractReport(extract_date=extract_date, lake_uri=lake.uri)
    for table, data in tables.items():
        key = part_key(table, extract_date)
        written = lake.write_parquet(key, data)
        report.tables.append(ExtractedTable(table, key, data.num_rows, written.size, written.sha256, 0.0))
    write_manifest(lake, Manifest(extract_date, manifest_entries(report)))
    return {t.table: t.key for t in report.tables}


@pytest.fixture
def cloud_settings(tmp_path: Path, snowflake_server: dict, monkeypatch: pytest.MonkeyPatch):
    """Cloud settings of a fresh stack whose lake edge is a local directory, and its Snowflake objects."""
    monkeypatch.setenv("SHOPSTREAM_HOME", str(tmp_path / "home"))
    stack = unique_stack()
    settings = settings_from_outputs(stack, cloud_outputs(stack), "test outputs")
    settings = apply_overrides(settings, lake_uri=str(tmp_path / "lake"))
    (tmp_path / "lake" / "raw").mkdir(parents=True)
    create_snowflake_objects(settings, tmp_path / "lake" / "raw")
    return settings


def query(settings, statement: str) -> list[tuple]:
    with connect(settings) as connection:
        return connection.cursor().execute(statement).fetchall()


def test_stack_objects_follow_the_naming_contract(cloud_settings) -> None:
    names = cloud_settings.names
    warehouse = cloud_settings.warehouse
    assert (warehouse.stage, warehouse.parquet_format) == (names.stage, names.parquet_format)
    assert warehouse.warehouses["loading"] == names.warehouses["loading"] == f"SHOPSTREAM_{names.stack.upper()}_LOADING"
    assert warehouse.stage == f"{names.database}.RAW.LAKE_STAGE"


def test_load_copies_every_partition_then_skips_loaded_files(cloud_settings) -> None:
    lake = Lake.from_settings(cloud_settings.lake)
    keys = publish(lake, DAY_1, {table: sample_table(table, ROWS) for table in SOURCE_TABLES})
    database = cloud_settings.warehouse.database

    first = load_snowflake(cloud_settings, DAY_1, lake)

    assert first.rows_loaded == ROWS * len(SOURCE_TABLES)
    assert (first.files_loaded, first.files_skipped, first.bad_rows) == (len(SOURCE_TABLES), 0, [])
    for table in SOURCE_TABLES:
        stamped = query(
            cloud_settings,
            f"SELECT COUNT(*), MIN(_SOURCE_FILE), MAX(_SOURCE_FILE), COUNT(_LOADED_AT) FROM {database}.RAW.{table}",
        )
        assert stamped == [(ROWS, keys[table], keys[table], ROWS)]
    revenue = query(cloud_settings, f"SELECT SUM(TOTAL_AMOUNT) FROM {database}.RAW.ORDERS")
    assert revenue == [(sum(sample_table("orders", ROWS).column("total_amount").to_pylist()),)]
    money = query(
        cloud_settings,
        "SELECT DATA_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE FROM INFORMATION_SCHEMA.COLUMNS "
        "WHERE TABLE_NAME = 'ORDERS' AND COLUMN_NAME = 'TOTAL_AMOUNT'",
    )
    assert money == [("NUMBER", 10, 2)]

    rerun = load_snowflake(cloud_settings, DAY_1, lake)

    assert (rerun.rows_loaded, rerun.files_loaded, rerun.files_skipped) == (0, 0, len(SOURCE_TABLES))
    assert query(cloud_settings, f"SELECT COUNT(*) FROM {database}.RAW.USERS") == [(ROWS,)]


def test_bad_rows_are_reported_and_good_files_still_load(cloud_settings) -> None:
    lake = Lake.from_settings(cloud_settings.lake)
    database = cloud_settings.warehouse.database
    publish(lake, DAY_1, {table: sample_table(table, ROWS) for table in SOURCE_TABLES})
    load_snowflake(cloud_settings, DAY_1, lake)
    good_orders = sample_table("orders", ROWS, offset=ROWS)
    amounts = pa.array(["10.50", "not a number", "7.00", "1.25"])
    bad_orders = good_orders.set_column(good_orders.schema.get_field_index("total_amount"), "total_amount", amounts)
    day_2 = {table: sample_table(table, ROWS, offset=ROWS) for table in SOURCE_TABLES} | {"orders": bad_orders}
    keys = publish(lake, DAY_2, day_2)

    report = load_snowflake(cloud_settings, DAY_2, lake)

    assert report.tables["orders"].rows_loaded == 0
    assert len(report.tables["orders"].bad_rows) == 1
    assert report.tables["orders"].bad_rows[0].startswith(keys["orders"])
    assert "not a number" in report.tables["orders"].bad_rows[0]
    assert report.rows_loaded == ROWS * (len(SOURCE_TABLES) - 1)
    assert query(cloud_settings, f"SELECT COUNT(*) FROM {database}.RAW.ORDERS") == [(ROWS,)]
    assert query(cloud_settings, f"SELECT COUNT(*) FROM {database}.RAW.USERS") == [(2 * ROWS,)]
    logged = query(
        cloud_settings, f"SELECT TABLE_NAME, FILE_NAME, EXTRACT_DATE, ERROR FROM {database}.RAW._LOAD_ERRORS"
    )
    assert [row[:3] for row in logged] == [("orders", keys["orders"], DAY_2)]
    assert "not a number" in logged[0][3]


def test_statement_builder_matches_the_lake_schema() -> None:
    schema = pa.schema(
        [
            ("id", pa.int32()),
            ("total_amount", pa.decimal128(10, 2)),
            ("created_at", pa.timestamp("us")),
            ("is_active", pa.bool_()),
            ("status", pa.string()),
        ]
    )
    ddl = sql.create_raw_table("orders", schema, "SHOPSTREAM_DEV")
    columns = [line.strip().rstrip(",") for line in ddl.splitlines()[1:-1]]
    assert ddl.startswith("CREATE TABLE IF NOT EXISTS SHOPSTREAM_DEV.RAW.ORDERS (")
    assert columns == [
        "ID NUMBER(38,0)",
        "TOTAL_AMOUNT NUMBER(10,2)",
        "CREATED_AT TIMESTAMP_NTZ",
        "IS_ACTIVE BOOLEAN",
        "STATUS VARCHAR",
        "_SOURCE_FILE VARCHAR",
        "_LOADED_AT TIMESTAMP_NTZ",
    ]
    names = StackNames("alice")
    copy = sql.copy_into(
        "orders",
        names.database,
        names.stage,
        stage_path(part_key("orders", DAY_1)),
        ["part-0000.parquet"],
        names.parquet_format,
    ).splitlines()
    assert copy == [
        "COPY INTO SHOPSTREAM_ALICE.RAW.ORDERS",
        f"FROM '@SHOPSTREAM_ALICE.RAW.LAKE_STAGE/postgres/orders/dt={DAY_1}/'",  # quoted: no option injection
        "FILES = ('part-0000.parquet')",
        "FILE_FORMAT = (FORMAT_NAME = 'SHOPSTREAM_ALICE.RAW.PARQUET_FORMAT')",
        "MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE",
        "ON_ERROR = CONTINUE",
    ]
    assert "TRUNCATE" not in "\n".join(copy).upper()
    with pytest.raises(ValueError):
        sql.copy_into("orders", "DB; DROP TABLE X", names.stage, "p", ["f"], names.parquet_format)


def test_missing_credentials_are_one_line_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SNOWFLAKE_USER", "SNOWFLAKE_PASSWORD", "SNOWFLAKE_PRIVATE_KEY_PATH", "SNOWFLAKE_AUTHENTICATOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SNOWFLAKE_USER", "alice")
    settings = settings_from_outputs("alice", cloud_outputs("alice"), "test outputs")
    with pytest.raises(ConfigError) as error, connect(settings):
        pass
    assert str(error.value) == (
        "Snowflake credentials missing: set SNOWFLAKE_USER and SNOWFLAKE_PRIVATE_KEY_PATH (key-pair sign-in; "
        "or SNOWFLAKE_PASSWORD where passwords are still allowed) in the environment"
    )
