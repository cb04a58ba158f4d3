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
        duplicates = _duplicate_count(data.column(KEY))
        if duplicates:
            problems.append(f"{duplicates} duplicate {KEY}(s)")
    return problems


def _duplicate_count(keys: pa.ChunkedArray) -> int:
    """How many non-NULL keys repeat an earlier one.

    The extract writes rows in key order, so a strictly increasing column (one linear pass) proves the keys unique;
    only a file that is not in that order pays for counting distinct values (seconds for a million keys)."""
    non_null = keys.drop_null()
    if len(non_null) < 2 or pc.all(pc.greater(non_null[1:], non_null[:-1])).as_py():
        return 0
    return len(non_null) - pc.count_distinct(non_null).as_py()
