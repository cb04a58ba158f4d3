"""The dashboard's data access on a Snowflake stack: the connector on the stack's BI warehouse, credentials from
the environment, bound parameters (qmark). Snowflake itself is not reachable offline, so a fakesnow server (a real
HTTP server speaking the connector's protocol) stands in for it.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from dashboard import data
from pipeline.settings import resolve_settings
from tests.helpers.cloud import cloud_outputs, snowflake_server, unique_stack

__all__ = ["snowflake_server"]  # the fixture, imported for the test below

ROWS = [
    (date(2026, 9, 30), "FR", "Freemium", 2, 3, 100.00),
    (date(2026, 10, 1), "FR", "Premium", 3, 4, 250.50),
    (date(2026, 10, 2), "DE", "Freemium", 1, 1, 40.00),
]


def test_marts_are_read_through_the_bi_warehouse(snowflake_server, tmp_path: Path, monkeypatch):
    import snowflake.connector

    stack = unique_stack()
    outputs = cloud_outputs(stack)
    outputs_file = tmp_path / "outputs.json"
    outputs_file.write_text(json.dumps(outputs))
    settings = resolve_settings(stack, outputs_file)
    source = data.source_for(settings, str(outputs_file))
    assert (source.kind, source.schema) == ("snowflake", "MARTS")

    assert data.missing_marts(source) == list(data.REQUIRED_MARTS)  # the database has no marts yet

    connection = snowflake.connector.connect(**{**snowflake_server, "database": outputs["snowflake_database"]})
    try:
        cursor = connection.cursor()
        cursor.execute(f"CREATE DATABASE IF NOT EXISTS {outputs['snowflake_database']}")
        cursor.execute(f"USE DATABASE {outputs['snowflake_database']}")
        cursor.execute("CREATE SCHEMA IF NOT EXISTS MARTS")
        cursor.execute(
            """CREATE TABLE MARTS.MART_DAILY_ORDERS (SALE_DATE DATE, COUNTRY_CODE VARCHAR, CUSTOMER_SEGMENT VARCHAR,
               TOTAL_ORDERS NUMBER, TOTAL_QUANTITY NUMBER, TOTAL_REVENUE NUMBER(38, 2))"""
        )
        cursor.executemany("INSERT INTO MARTS.MART_DAILY_ORDERS VALUES (%s, %s, %s, %s, %s, %s)", ROWS)
    finally:
        connection.close()

    assert "mart_daily_orders" not in data.missing_marts.__wrapped__(source)
    first, last, countries = data.filter_options(source)
    assert (first, last, countries) == (date(2026, 9, 30), date(2026, 10, 2), ["DE", "FR"])
    revenue, orders = data.sales_totals(source, date(2026, 10, 1), date(2026, 10, 31), ("FR",))
    assert (revenue, orders) == (pytest.approx(250.50), 3)
    growth = data.month_over_month(source, date(2026, 10, 2), ("DE", "FR"))
    assert growth.current_revenue == pytest.approx(290.50) and growth.previous_revenue == 0
