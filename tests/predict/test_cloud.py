"""The cloud road of `predict`: CORE read from and marts written to Snowflake, here a fakesnow server (a real
HTTP server on 127.0.0.1 running Snowflake SQL on DuckDB; no Snowflake account exists offline).

CORE is copied from the SF 1 stack's DuckDB build into the fake account (the relations `predict` reads), rather
than rebuilt with dbt on fakesnow (tests/cloud does that already): the same history must give the same model
version and the same scores on both engines.
"""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from pipeline.predict.churn import predict
from pipeline.settings import settings_from_outputs
from pipeline.warehouse.snowflake import connect
from tests.helpers.churn import rows
from tests.helpers.cloud import cloud_outputs, fakesnow_endpoint, unique_stack

pytestmark = pytest.mark.slow

CORE_RELATIONS = {
    "fct_orders": "order_key, customer_key, date_key, is_completed, is_cancelled, lines_revenue",
    "dim_customers": "customer_key, plan_type, country_code, registration_date",
    "int_sessions": "session_id, user_id, session_date, has_add_to_cart, has_checkout, has_purchase",
    "int_as_of_date": "as_of_date",
}


CHUNK = 2_000


def literal(value: object) -> str:
    """A SQL literal of the values CORE holds (keys, days, flags, money, short codes without quotes)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | Decimal | float):
        return str(value)
    return f"'{value}'"


def copy_core(local, cloud) -> None:
    con = duckdb.connect(str(local.warehouse.path), read_only=True)
    try:
        relations = {
            name: (con.execute(f"SELECT {columns} FROM CORE.{name}").fetchall(), con.description)
            for name, columns in CORE_RELATIONS.items()
        }
        types = {
            name: [
                con.execute(
                    "SELECT data_type FROM information_schema.columns WHERE table_schema = 'CORE' "
                    "AND table_name = ? AND column_name = ?",
                    [name, column.strip()],
                ).fetchone()[0]
                for column in columns.split(",")
            ]
            for name, columns in CORE_RELATIONS.items()
        }
    finally:
        con.close()
    database = cloud.warehouse.database
    with connect(cloud, "transform", paramstyle="qmark") as connection:
        cursor = connection.cursor()
        cursor.execute(f"CREATE DATABASE IF NOT EXISTS {database}")
        for schema in ("CORE", "MARTS"):
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {database}.{schema}")
        for name, columns in CORE_RELATIONS.items():
            data, _ = relations[name]
            definition = ", ".join(f"{c.strip()} {t}" for c, t in zip(columns.split(","), types[name], strict=True))
            cursor.execute(f"CREATE TABLE {database}.CORE.{name} ({definition})")
            # Multi-row literal INSERTs: fakesnow runs a bound batch row by row, minutes for SF 1's orders.
            for start in range(0, len(data), CHUNK):
                values = ", ".join(f"({', '.join(map(literal, row))})" for row in data[start : start + CHUNK])
                cursor.execute(f"INSERT INTO {database}.CORE.{name} VALUES {values}")


def test_predict_writes_the_marts_on_snowflake_with_the_duckdb_scores(churn_stack, monkeypatch) -> None:
    local_report = predict(churn_stack)
    local_mart = rows(churn_stack, "SELECT * FROM MARTS.mart_churn_predictions ORDER BY customer_key")

    stack = unique_stack()
    with fakesnow_endpoint(monkeypatch):
        cloud = settings_from_outputs(stack, cloud_outputs(stack), "test outputs")
        copy_core(churn_stack, cloud)
        report = predict(cloud)
        with connect(cloud, "bi") as connection:
            cursor = connection.cursor()
            cloud_mart = cursor.execute(
                f"SELECT * FROM {cloud.warehouse.database}.MARTS.MART_CHURN_PREDICTIONS ORDER BY customer_key"
            ).fetchall()
            metrics = cursor.execute(
                f"SELECT metric, model_value FROM {cloud.warehouse.database}.MARTS.MART_CHURN_MODEL_METRICS"
            ).fetchall()
            leftovers = cursor.execute(
                f"SELECT count(*) FROM {cloud.warehouse.database}.INFORMATION_SCHEMA.TABLES "
                "WHERE table_name LIKE '%STAGING%'"
            ).fetchone()[0]

    assert report.written_to.startswith("snowflake://")
    assert report.model_version == local_report.model_version  # the same data hash from either engine
    assert len(cloud_mart) == len(local_mart) == report.customers_scored > 500
    for cloud_row, local_row in zip(cloud_mart, local_mart, strict=True):
        assert cloud_row[0] == local_row[0] and cloud_row[2:] == local_row[2:]
        assert cloud_row[1] == pytest.approx(local_row[1], abs=1e-12)
    assert dict(metrics)["roc_auc"] == pytest.approx(local_report.evaluation.model.roc_auc)
    assert leftovers == 0
