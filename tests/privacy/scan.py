"""Independent searches for a person in a lake and a DuckDB warehouse (the tests' own code, not the erasure's)."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.lake import Lake


def lake_hits(lake: Lake, needles: list[str]) -> list[str]:
    """Keys (everywhere, quarantine included) whose decoded text, or raw bytes if not Parquet, holds a needle."""
    hits = []
    for key in lake.list_files("", suffix=""):
        data = lake.read_bytes(key)
        try:
            text = pq.read_table(pa.BufferReader(data)).to_pandas().to_csv().lower()
        except (pa.ArrowException, OSError):
            text = data.decode(errors="replace").lower()
        if any(n.lower() in text for n in needles):
            hits.append(key)
    return hits


def name_pairs_in_lake(lake: Lake, first: str, last: str) -> list[str]:
    hits = []
    for key in lake.list_files("", suffix=".parquet"):
        try:
            frame = pq.read_table(pa.BufferReader(lake.read_bytes(key))).to_pandas()
        except (pa.ArrowException, OSError):
            continue
        named = {"first_name", "last_name"} <= set(frame.columns)
        if named and ((frame["first_name"] == first) & (frame["last_name"] == last)).any():
            hits.append(key)
    return hits


def warehouse_hits(path: str, needles: list[str]) -> list[str]:
    """SCHEMA.table.column of every text column of every table and view holding a needle (case-insensitive)."""
    con = duckdb.connect(path, read_only=True)
    try:
        columns = con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns WHERE data_type = 'VARCHAR'"
        ).fetchall()
        hits = []
        for schema, table, column in columns:
            for needle in needles:
                (n,) = con.execute(
                    f'SELECT count(*) FROM "{schema}"."{table}" WHERE contains(lower("{column}"), ?)', [needle.lower()]
                ).fetchone()
                if n:
                    hits.append(f"{schema}.{table}.{column}")
        return hits
    finally:
        con.close()


def warehouse_rows(path: str, sql: str) -> list[tuple]:
    con = duckdb.connect(path, read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()
