"""Extract (embedded PostgreSQL → Parquet lake) and load (lake → DuckDB RAW) against real engines.

The source rows are hand-written (see conftest.py); every expectation is read back from PostgreSQL itself.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline import source
from pipeline.errors import ShopstreamError
from pipeline.extract import extract
from pipeline.extract.schemas import TABLE_SCHEMAS
from pipeline.lake import Lake
from pipeline.lake_contract import manifest_key, part_key, partition_prefix
from pipeline.load import load
from pipeline.naming import SOURCE_TABLES
from pipeline.settings import Settings

DATE = "2026-11-24"


def raw_rows(settings: Settings) -> dict[str, int]:
    with duckdb.connect(str(settings.warehouse.path), read_only=True) as con:
        return {t: con.execute(f'SELECT count(*) FROM RAW."{t}"').fetchone()[0] for t in SOURCE_TABLES}


def raw_types(settings: Settings, table: str) -> dict[str, str]:
    with duckdb.connect(str(settings.warehouse.path), read_only=True) as con:
        return dict(con.execute(f'SELECT column_name, column_type FROM (DESCRIBE RAW."{table}")').fetchall())


def source_query(settings: Settings, query: str) -> list[tuple]:
    with source.connect(settings) as conn:
        return conn.execute(query).fetchall()


@pytest.fixture(scope="module")
def extracted(pipe_stack: Settings):
    return extract(pipe_stack, DATE)


def test_catalog_matches_the_declared_arrow_schemas(pipe_stack: Settings) -> None:
    type_names = {
        pa.int32(): "integer",
        pa.int64(): "bigint",
        pa.string(): ("character varying", "text", "jsonb"),
        pa.bool_(): "boolean",
        pa.timestamp("us"): "timestamp without time zone",
        pa.decimal128(10, 2): "numeric",
    }
    for table, schema in TABLE_SCHEMAS.items():
        catalog = source_query(
            pipe_stack,
            "SELECT column_name, data_type, is_nullable = 'YES', numeric_precision, numeric_scale "
            f"FROM information_schema.columns WHERE table_name = '{table}' ORDER BY ordinal_position",
        )
        assert [c[0] for c in catalog] == schema.names, table
        for (name, data_type, nullable, precision, scale), field in zip(catalog, schema, strict=True):
            expected = type_names[field.type]
            assert data_type in (expected if isinstance(expected, tuple) else (expected,)), (table, name)
            assert nullable == field.nullable, (table, name)
            if data_type == "numeric":
                assert (precision, scale) == (field.type.precision, field.type.scale)


def test_extract_writes_one_ordered_file_per_table_and_a_manifest(pipe_stack: Settings, extracted) -> None:
    lake = Lake.from_settings(pipe_stack.lake)
    counts = source.table_counts(source.source_dsn(pipe_stack))
    manifest = lake.read_json(manifest_key(DATE))
    assert {f["table"]: f["rows"] for f in manifest["files"]} == counts
    for entry in manifest["files"]:
        assert entry["key"].startswith(partition_prefix(entry["table"], DATE) + "/")
        data = lake.read_bytes(entry["key"])
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        table = lake.read_table(entry["key"])
        assert table.schema.equals(TABLE_SCHEMAS[entry["table"]])
        ids = table.column("id").to_pylist()
        assert ids == sorted(ids)
        assert [c["name"] for c in entry["schema"]] == TABLE_SCHEMAS[entry["table"]].names


def test_extract_values_equal_the_source(pipe_stack: Settings, extracted) -> None:
    lake = Lake.from_settings(pipe_stack.lake)
    orders = lake.read_table(part_key("orders", DATE))
    (total,) = source_query(pipe_stack, "SELECT sum(total_amount) FROM orders")[0]
    assert sum(orders.column("total_amount").to_pylist()) == total
    users_key = part_key("users", DATE)
    users = pq.read_table(pa.BufferReader(lake.read_bytes(users_key)))
    columns = ("id", "first_name", "created_at", "last_login")
    expected_users = source_query(pipe_stack, f"SELECT {', '.join(columns)} FROM users ORDER BY id")
    assert list(zip(*(users.column(c).to_pylist() for c in columns), strict=True)) == expected_users
    events = lake.read_table(part_key("events", DATE))
    expected_metadata = source_query(pipe_stack, "SELECT metadata FROM events ORDER BY id")
    assert [json.loads(text) for text in events.column("metadata").to_pylist()] == [m for (m,) in expected_metadata]


def test_extracting_unchanged_data_again_gives_the_same_bytes(pipe_stack: Settings, extracted) -> None:
    again = extract(pipe_stack, DATE)
    assert {t.table: t.sha256 for t in again.tables} == {t.table: t.sha256 for t in extracted.tables}


def test_load_matches_source_counts_and_types_and_a_rerun_adds_nothing(pipe_stack: Settings, extracted) -> None:
    first = load(pipe_stack, DATE)
    counts = source.table_counts(source.source_dsn(pipe_stack))
    assert raw_rows(pipe_stack) == counts
    assert first.rows_loaded == sum(counts.values()) and first.files_loaded == 6

    assert raw_types(pipe_stack, "orders")["total_amount"] == "DECIMAL(10,2)"
    assert raw_types(pipe_stack, "order_items")["line_total"] == "DECIMAL(10,2)"
    assert raw_types(pipe_stack, "users")["last_login"] == "TIMESTAMP"
    assert raw_types(pipe_stack, "events")["metadata"] == "VARCHAR"
    assert raw_types(pipe_stack, "events")["id"] == "BIGINT"
    assert raw_types(pipe_stack, "users")["is_active"] == "BOOLEAN"
    lineage_columns = {"_source_file": "VARCHAR", "_loaded_at": "TIMESTAMP"}
    assert lineage_columns.items() <= raw_types(pipe_stack, "crm_contacts").items()

    with duckdb.connect(str(pipe_stack.warehouse.path), read_only=True) as con:
        warehouse_total = con.execute("SELECT sum(total_amount) FROM RAW.orders").fetchone()[0]
        schemas = {r[0] for r in con.execute("SELECT schema_name FROM information_schema.schemata").fetchall()}
        history = con.execute("SELECT count(*), sum(rows) FROM RAW._LOAD_HISTORY").fetchone()
    assert warehouse_total == source_query(pipe_stack, "SELECT sum(total_amount) FROM orders")[0][0]
    assert isinstance(warehouse_total, Decimal)
    assert {"RAW", "STAGING", "CORE", "MARTS"} <= schemas
    assert history == (6, sum(counts.values()))

    second = load(pipe_stack, DATE)
    assert (second.rows_loaded, second.files_loaded, second.files_skipped) == (0, 0, 6)
    assert raw_rows(pipe_stack) == counts


def test_re_extracted_date_replaces_its_rows_instead_of_duplicating(pipe_stack: Settings, extracted) -> None:
    load(pipe_stack, DATE)
    with source.connect(pipe_stack) as conn:
        conn.execute(
            "INSERT INTO crm_contacts (email, source, converted) VALUES ('late@example.com', 'organic', false)"
        )
    try:
        extract(pipe_stack, DATE)
        report = load(pipe_stack, DATE)
        assert report.tables["crm_contacts"].files_loaded == 1
        assert report.tables["users"].files_skipped == 1
        assert raw_rows(pipe_stack) == source.table_counts(source.source_dsn(pipe_stack))
    finally:
        with source.connect(pipe_stack) as conn:
            conn.execute("DELETE FROM crm_contacts WHERE email = 'late@example.com'")
        extract(pipe_stack, DATE)
        load(pipe_stack, DATE)


def test_corrupt_and_foreign_files_are_quarantined_and_the_rest_loads(pipe_stack: Settings, extracted) -> None:
    lake = Lake.from_settings(pipe_stack.lake)
    other_date = "2026-11-25"
    extract(pipe_stack, other_date)
    garbage = f"{partition_prefix('orders', other_date)}/part-0001.parquet"
    foreign = f"{partition_prefix('users', other_date)}/part-0001.parquet"
    lake.write_bytes(garbage, b"\x00garbage, not parquet" * 10)
    lake.write_parquet(foreign, pa.table({"id": [1], "colour": ["red"]}))
    before = raw_rows(pipe_stack)

    report = load(pipe_stack, other_date)

    reasons = {q.key: q.reason for q in report.quarantined}
    assert set(reasons) == {garbage, foreign}
    assert "not a readable Parquet file" in reasons[garbage]
    assert "colour" in reasons[foreign] and "missing columns" in reasons[foreign]
    assert lake.exists(f"quarantine/{garbage}") and lake.exists(f"quarantine/{foreign}")
    assert not lake.exists(garbage) and not lake.exists(foreign)
    counts = source.table_counts(source.source_dsn(pipe_stack))
    assert raw_rows(pipe_stack) == {t: before[t] + counts[t] for t in SOURCE_TABLES}
    assert report.files_loaded == 6


def test_load_without_a_date_loads_only_what_is_new(pipe_stack: Settings, extracted) -> None:
    load(pipe_stack)  # catch up on every partition
    before = raw_rows(pipe_stack)
    report = load(pipe_stack)
    assert report.rows_loaded == 0 and report.files_skipped == report.files_seen > 0
    assert raw_rows(pipe_stack) == before


def test_bad_date_is_refused(pipe_stack: Settings) -> None:
    with pytest.raises(ShopstreamError, match="YYYY-MM-DD"):
        extract(pipe_stack, "24/11/2026")
    with pytest.raises(ShopstreamError, match="YYYY-MM-DD"):
        load(pipe_stack, "2026-02-30")


def test_no_temporary_files_remain_in_the_lake(pipe_stack: Settings, extracted) -> None:
    leftovers = [p for p in Path(pipe_stack.lake.uri).rglob("*") if p.is_file() and ".tmp" in p.name]
    assert leftovers == []
    assert not any((Path(pipe_stack.lake.uri) / "_tmp").rglob("*.parquet"))
