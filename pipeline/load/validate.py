"""What RAW requires of a file's rows, checked before a single row is loaded: keys present and unique, required
columns filled. A file that breaks this would load, then fail every later `transform`; it is quarantined instead."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.extract.schemas import TABLE_SCHEMAS

KEY = "id"


def content_problems(table: str, data: pa.Table) -> list[str]:
    """Why the file's rows cannot go into RAW (empty when they can)."""
    problems = []
    for column in TABLE_SCHEMAS[table]:
        if not column.nullable and column.name in data.column_names:
            nulls = data.column(column.name).null_count
            if nulls:
                problems.append(f"{nulls} NULL(s) in required column {column.name}")
    if KEY in data.column_names and data.num_rows:
        distinct = pc.count_distinct(data.column(KEY)).as_py()
        non_null = data.num_rows - data.column(KEY).null_count
        if distinct != non_null:
            problems.append(f"{non_null - distinct} duplicate {KEY}(s)")
    return problems
