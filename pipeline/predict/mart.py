"""Writing the scores to MARTS through the stack's warehouse: DuckDB locally, Snowflake on a cloud stack.

Two relations, replaced together and only once complete (a reader sees the old or the new version, never a half):
- `mart_churn_predictions`: one row per scored customer;
- `mart_churn_model_metrics`: one row per metric of the model that scored them, next to the rule's.
DuckDB replaces both in one transaction. Snowflake commits each DDL statement on its own, so the rows are first
inserted into staging tables, then each mart is replaced by one `CREATE OR REPLACE TABLE ... AS SELECT` (atomic).
"""

from __future__ import annotations

import pyarrow as pa

from pipeline.errors import ShopstreamError
from pipeline.settings import DuckDBWarehouse, Settings, SnowflakeWarehouse

PREDICTIONS = "mart_churn_predictions"
METRICS = "mart_churn_model_metrics"

PREDICTIONS_SCHEMA = pa.schema(
    [
        ("customer_key", pa.int64()),
        ("churn_probability", pa.float64()),
        ("risk_band", pa.string()),
        ("top_features", pa.string()),
        ("model_version", pa.string()),
        ("as_of_date", pa.date32()),
        ("horizon_days", pa.int32()),
    ]
)
METRICS_SCHEMA = pa.schema(
    [
        ("model_version", pa.string()),
        ("as_of_date", pa.date32()),
        ("test_cutoff", pa.date32()),
        ("metric", pa.string()),
        ("model_value", pa.float64()),
        ("baseline_value", pa.float64()),
    ]
)
SNOWFLAKE_TYPES = {
    pa.int64(): "NUMBER(38, 0)",
    pa.int32(): "NUMBER(38, 0)",
    pa.float64(): "FLOAT",
    pa.string(): "VARCHAR",
    pa.date32(): "DATE",
}


def write_marts(settings: Settings, predictions: pa.Table, metrics: pa.Table) -> str:
    """Replace both marts; returns where they were written."""
    predictions, metrics = predictions.cast(PREDICTIONS_SCHEMA), metrics.cast(METRICS_SCHEMA)
    if isinstance(settings.warehouse, DuckDBWarehouse):
        return _write_duckdb(settings, {PREDICTIONS: predictions, METRICS: metrics})
    return _write_snowflake(settings, {PREDICTIONS: predictions, METRICS: metrics})


def _write_duckdb(settings: Settings, tables: dict[str, pa.Table]) -> str:
    from pipeline.load.duckdb import open_warehouse

    with open_warehouse(settings) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("CREATE SCHEMA IF NOT EXISTS MARTS")
            for name, table in tables.items():
                con.register("incoming", table)
                con.execute(f"CREATE OR REPLACE TABLE MARTS.{name} AS SELECT * FROM incoming")
                con.unregister("incoming")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    assert isinstance(settings.warehouse, DuckDBWarehouse)  # the caller dispatched on the warehouse kind
    return f"{settings.warehouse.path} (MARTS)"


def _write_snowflake(settings: Settings, tables: dict[str, pa.Table]) -> str:
    from snowflake.connector.errors import DatabaseError

    from pipeline.warehouse.snowflake import connect, first_line

    assert isinstance(settings.warehouse, SnowflakeWarehouse)  # the caller dispatched on the warehouse kind
    warehouse = settings.warehouse
    marts = f"{warehouse.database}.{warehouse.schemas['marts']}"
    with connect(settings, "transform", paramstyle="qmark") as connection:
        cursor = connection.cursor()
        try:
            for name, table in tables.items():
                staging = f"{marts}.{name}__staging".upper()
                columns = ", ".join(f"{field.name} {SNOWFLAKE_TYPES[field.type]}" for field in table.schema)
                cursor.execute(f"CREATE OR REPLACE TRANSIENT TABLE {staging} ({columns})")
                if table.num_rows:
                    marks = ", ".join("?" for _ in table.schema)
                    cursor.executemany(f"INSERT INTO {staging} VALUES ({marks})", _rows(table))
            for name in tables:
                staging = f"{marts}.{name}__staging".upper()
                cursor.execute(f"CREATE OR REPLACE TABLE {marts}.{name.upper()} AS SELECT * FROM {staging}")
                cursor.execute(f"DROP TABLE IF EXISTS {staging}")
        except DatabaseError as exc:
            raise ShopstreamError(f"writing the churn marts to Snowflake failed: {first_line(exc)}") from None
    return f"snowflake://{warehouse.account}/{marts}"


def _rows(table: pa.Table) -> list[tuple]:
    columns = [column.to_pylist() for column in table.columns]
    return list(zip(*columns, strict=True))
