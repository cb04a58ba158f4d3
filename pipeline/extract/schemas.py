"""The Arrow schema of each source table's Parquet files, defined once.

Extraction casts every snapshot to these schemas, so a file's column types never depend on the driver;
loaders use them to recognise foreign files. They mirror `pipeline/source/schema.sql` (a test compares them
with the PostgreSQL catalog): numeric(10,2) → decimal128(10,2), timestamp → timestamp[us], JSONB → JSON text.
"""

from __future__ import annotations

import pyarrow as pa

MONEY = pa.decimal128(10, 2)
TIMESTAMP = pa.timestamp("us")


def _schema(*fields: tuple[str, pa.DataType, bool]) -> pa.Schema:
    return pa.schema([pa.field(name, dtype, nullable=nullable) for name, dtype, nullable in fields])


TABLE_SCHEMAS: dict[str, pa.Schema] = {
    "users": _schema(
        ("id", pa.int32(), False),
        ("email", pa.string(), False),
        ("first_name", pa.string(), True),
        ("last_name", pa.string(), True),
        ("country", pa.string(), False),
        ("plan_type", pa.string(), False),
        ("created_at", TIMESTAMP, False),
        ("updated_at", TIMESTAMP, False),
        ("last_login", TIMESTAMP, True),
        ("is_active", pa.bool_(), False),
    ),
    "products": _schema(
        ("id", pa.int32(), False),
        ("merchant_id", pa.int32(), False),
        ("name", pa.string(), False),
        ("description", pa.string(), True),
        ("category", pa.string(), False),
        ("price", MONEY, False),
        ("stock_quantity", pa.int32(), False),
        ("created_at", TIMESTAMP, False),
        ("updated_at", TIMESTAMP, False),
    ),
    "orders": _schema(
        ("id", pa.int32(), False),
        ("user_id", pa.int32(), False),
        ("created_at", TIMESTAMP, False),
        ("updated_at", TIMESTAMP, False),
        ("total_amount", MONEY, False),
        ("status", pa.string(), False),
        ("country", pa.string(), False),
        ("payment_method", pa.string(), False),
    ),
    "order_items": _schema(
        ("id", pa.int32(), False),
        ("order_id", pa.int32(), False),
        ("product_id", pa.int32(), False),
        ("quantity", pa.int32(), False),
        ("unit_price", MONEY, False),
        ("line_total", MONEY, False),
    ),
    "events": _schema(
        ("id", pa.int64(), False),
        ("user_id", pa.int32(), True),
        ("event_type", pa.string(), False),
        ("event_ts", TIMESTAMP, False),
        ("metadata", pa.string(), False),  # JSONB as JSON text
    ),
    "crm_contacts": _schema(
        ("id", pa.int32(), False),
        ("email", pa.string(), False),
        ("first_name", pa.string(), True),
        ("last_name", pa.string(), True),
        ("source", pa.string(), False),
        ("campaign_id", pa.string(), True),
        ("created_at", TIMESTAMP, False),
        ("converted", pa.bool_(), False),
        ("converted_at", TIMESTAMP, True),
    ),
}

# JSONB columns: extracted as PostgreSQL's canonical JSON text, so every engine can parse them.
JSON_COLUMNS: dict[str, set[str]] = {"events": {"metadata"}}


def schema_problems(table: str, actual: pa.Schema) -> list[str]:
    """Why a file's schema is not the table's (empty when it is): missing, unexpected or mistyped columns."""
    expected = TABLE_SCHEMAS[table]
    problems = []
    missing = [name for name in expected.names if name not in actual.names]
    unexpected = [name for name in actual.names if name not in expected.names]
    if missing:
        problems.append(f"missing columns {', '.join(missing)}")
    if unexpected:
        problems.append(f"unexpected columns {', '.join(unexpected)}")
    for field in expected:
        if field.name in actual.names and not actual.field(field.name).type.equals(field.type):
            problems.append(f"{field.name} is {actual.field(field.name).type}, expected {field.type}")
    return problems


def schema_as_json(schema: pa.Schema) -> list[dict[str, str | bool]]:
    """A schema as JSON-friendly rows for manifests."""
    return [{"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in schema]
