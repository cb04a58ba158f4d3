"""Data a churn model cannot learn from: one red line, a non-zero exit, and the existing marts left as they were.

The warehouses here are small DuckDB files whose CORE relations are written by hand (the columns `predict` reads),
so each test controls exactly how many customers and which labels there are.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.naming import DUCKDB_FILE

AS_OF = date(2025, 12, 31)
START = date(2024, 1, 8)
SENTINEL = "SELECT * FROM MARTS.mart_churn_predictions"


def make_stack(home: Path, stack: str, orders: list[tuple]) -> Path:
    """A local stack whose CORE holds `orders` (customer, day, completed) and a mart from an earlier run."""
    folder = home / stack
    folder.mkdir()
    path = folder / DUCKDB_FILE
    customers = sorted({o[0] for o in orders})
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE SCHEMA CORE; CREATE SCHEMA MARTS")
        con.execute(
            "CREATE TABLE CORE.fct_orders (order_key INT, customer_key INT, date_key DATE, is_completed BOOLEAN,"
            " is_cancelled BOOLEAN, lines_revenue DECIMAL(12, 2))"
        )
        con.executemany(
            "INSERT INTO CORE.fct_orders VALUES (?, ?, ?, ?, NOT ?, 25.00)",
            [(i, c, d, done, done) for i, (c, d, done) in enumerate(orders)],
        )
        con.execute(
            "CREATE TABLE CORE.dim_customers AS SELECT unnest(?::INT[]) AS customer_key, 'freemium' AS plan_type,"
            " 'FR' AS country_code, DATE '2024-01-01' AS registration_date",
            [customers],
        )
        con.execute(
            "CREATE TABLE CORE.int_sessions (session_id VARCHAR, user_id INT, session_date DATE,"
            " has_add_to_cart BOOLEAN, has_checkout BOOLEAN, has_purchase BOOLEAN)"
        )
        con.execute(f"CREATE TABLE CORE.int_as_of_date AS SELECT DATE '{AS_OF}' AS as_of_date")
        con.execute("CREATE TABLE MARTS.mart_churn_predictions AS SELECT 7 AS customer_key, 0.5 AS churn_probability")
    finally:
        con.close()
    return path


def mart(path: Path) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(SENTINEL).fetchall()
    finally:
        con.close()


def weekly(customers: range, until: date = AS_OF) -> list[tuple]:
    """Every customer orders every week: nobody ever churns."""
    days = [START + timedelta(days=7 * k) for k in range((until - START).days // 7 + 1)]
    return [(c, d, True) for c in customers for d in days]


def invoke(stack: str):
    return CliRunner().invoke(app, ["predict", "--stack", stack], env={"SHOPSTREAM_DEBUG": None})


def assert_refused(result, expected: str) -> str:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def test_too_few_customers_is_refused_and_the_mart_kept(shopstream_home: Path) -> None:
    path = make_stack(shopstream_home, "fewcustomers", weekly(range(1, 11)))
    before = mart(path)
    line = assert_refused(invoke("fewcustomers"), "too few customers to train a churn model")
    assert "10 in the training cut-offs (need 50)" in line
    assert mart(path) == before == [(7, 0.5)]
    assert not (shopstream_home / "fewcustomers" / "models").exists() or not any(
        (shopstream_home / "fewcustomers" / "models" / "churn").iterdir()
    )


def test_one_class_only_is_refused_and_the_mart_kept(shopstream_home: Path) -> None:
    path = make_stack(shopstream_home, "oneclass", weekly(range(1, 81)))
    line = assert_refused(invoke("oneclass"), "one class only")
    assert "ordered again within 90 days" in line
    assert mart(path) == [(7, 0.5)]


def test_a_warehouse_without_core_says_what_to_run(shopstream_home: Path) -> None:
    folder = shopstream_home / "nocore"
    folder.mkdir()
    duckdb.connect(str(folder / DUCKDB_FILE)).close()
    assert_refused(invoke("nocore"), "shopstream transform --stack nocore")


@pytest.mark.parametrize(
    ("option", "expected"), [("--horizon-days=0", "at least 1"), ("--as-of-date=2025-13-01", "YYYY-MM-DD")]
)
def test_bad_options_are_one_line(shopstream_home: Path, option: str, expected: str) -> None:
    make_stack(shopstream_home, f"opts{len(option)}", weekly(range(1, 3)))
    result = CliRunner().invoke(
        app, ["predict", "--stack", f"opts{len(option)}", option], env={"SHOPSTREAM_DEBUG": None}
    )
    assert_refused(result, expected)


def test_the_airflow_task_logs_untrainable_data_and_keeps_the_mart(shopstream_home: Path, caplog) -> None:
    from pipeline.predict.churn import predict_stack

    path = make_stack(shopstream_home, "dagdemo", weekly(range(1, 11)))
    result = predict_stack("dagdemo")
    assert result["refreshed"] is False and "too few customers" in result["reason"]
    assert "churn predictions not refreshed: too few customers" in caplog.text
    assert mart(path) == [(7, 0.5)]
