"""What the stream carries: its tables, their Arrow schemas and where their batches live in the lake."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Any

import pyarrow as pa

from pipeline.extract.schemas import TABLE_SCHEMAS, TIMESTAMP
from pipeline.lake_contract import partition_name

STREAM_PREFIX = "raw/stream"  # the lake prefix Snowpipe and the Airflow asset watch
STREAM_MANIFEST_PREFIX = f"{STREAM_PREFIX}/_manifests"

CANCELLATIONS_SCHEMA = pa.schema(
    [
        pa.field("order_id", pa.int32(), nullable=False),
        pa.field("product_id", pa.int32(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("requested", pa.int32(), nullable=False),
        pa.field("available", pa.int32(), nullable=False),
        pa.field("cancelled_at", TIMESTAMP, nullable=False),
    ]
)

# Source tables the simulator changes, plus its own cancellations table; each batch file keeps the table's schema.
STREAM_SCHEMAS: dict[str, pa.Schema] = {
    "orders": TABLE_SCHEMAS["orders"],
    "order_items": TABLE_SCHEMAS["order_items"],
    "products": TABLE_SCHEMAS["products"],
    "events": TABLE_SCHEMAS["events"],
    "order_cancellations": CANCELLATIONS_SCHEMA,
}
STREAM_TABLES = tuple(STREAM_SCHEMAS)
KEY_COLUMN = {table: "order_id" if table == "order_cancellations" else "id" for table in STREAM_TABLES}


def stream_table_prefix(table: str) -> str:
    return f"{STREAM_PREFIX}/{table}"


def batch_file_key(table: str, batch_no: int, day: str) -> str:
    """Fixed name of one table's file in one batch: redoing a batch after a crash overwrites, never adds."""
    return str(PurePosixPath(stream_table_prefix(table)) / partition_name(day) / f"batch-{batch_no:08d}.parquet")


def batch_manifest_key(batch_no: int) -> str:
    return f"{STREAM_MANIFEST_PREFIX}/batch-{batch_no:08d}.json"


def select_rows_sql(table: str) -> str:
    """The current version of some rows of `table` (by key), numerics and JSON as text for exact casts."""
    columns = []
    for field in STREAM_SCHEMAS[table]:
        as_text = pa.types.is_decimal(field.type) or (table, field.name) == ("events", "metadata")
        columns.append(f'"{field.name}"::text AS "{field.name}"' if as_text else f'"{field.name}"')
    key = KEY_COLUMN[table]
    return f'SELECT {", ".join(columns)} FROM "{table}" WHERE "{key}" = ANY(%s) ORDER BY "{key}"'


def to_arrow(table: str, rows: list[tuple]) -> pa.Table:
    schema = STREAM_SCHEMAS[table]
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [[] for _ in schema]
    arrays = [
        pa.array(list(values), type=pa.string() if pa.types.is_decimal(f.type) else f.type)
        for values, f in zip(columns, schema, strict=True)
    ]
    return pa.Table.from_arrays([a.cast(f.type) for a, f in zip(arrays, schema, strict=True)], schema=schema)
