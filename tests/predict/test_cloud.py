"""The cloud road of `predict`: CORE read from and marts written to Snowflake, here a fakesnow server (a real
HTTP server on 127.0.0.1 running Snowflake SQL on DuckDB; no Snowflake account exists offline).

CORE is copied from the SF 1 stack's DuckDB build into the fake account (the relations `predict` reads), rather
than rebuilt with dbt on fakesnow (tests/cloud does that already): the same history must give the same model
version and the same scores on both engines.
"""

from __future__ import annotations

from pathlib import Path

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


def copy_core(local, cloud, folder: Path) -> None:
    """CORE's relations from the local DuckDB build into the fake account the way the loader moves data: a
    Parquet file per relation, a `file://` stage over their folder, COPY INTO. (Row INSERTs go through fakesnow's
    SQL translation one statement at a time: half a minute for SF 1.)"""
    definitions = {}
    with duckdb.connect(str(local.warehouse.path), read_only=True) as con:
        for name, columns in CORE_RELATIONS.items():
            relation = con.sql(f"SELECT {columns} FROM CORE.{name}")
            pairs = zip(relation.columns, relation.dtypes, strict=True)
            definitions[name] = ", ".join(f"{column} {dtype}" for column, dtype in pairs)
            relation.write_parquet(str(folder / f"{name}.parquet"))
    database = cloud.warehouse.database
    with connect(cloud, "transform") as connection:
        cursor = connection.cursor()
        cursor.execute(f"CREATE DATABASE IF NOT EXISTS {database}")
        for schema in ("CORE", "MARTS"):
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {database}.{schema}")
        cursor.execute(f"CREATE STAGE {database}.CORE.core_copy URL = 'file://{folder.resolve()}/'")
        for name, definition in definitions.items():
            cursor.execute(f"CREATE TABLE {database}.CORE.{name} ({definition})")
            cursor.execute(
                f"COPY INTO {database}.CORE.{name} FROM @{database}.CORE.core_copy/ FILES = ('{name}.parquet') "
                "FILE_FORMAT = (TYPE = PARQUET) MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE"
            )


def test_predict_writes_the_marts_on_snowflake_with_the_duckdb_scores(churn_stack, monkeypatch, tmp_path: Path) -> None:
    local_report = predict(churn_stack)
    local_mart = rows(churn_stack, "SELECT * FROM MARTS.mart_churn_predictions ORDER BY customer_key")

    stack = unique_stack()
    with fakesnow_endpoint(monkeypatch):
        cloud = settings_from_outputs(stack, cloud_outputs(stack), "test outputs")
        copy_core(churn_stack, cloud, tmp_path)
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
