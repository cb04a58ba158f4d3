"""The one row of a query that always returns exactly one (an aggregate, `RETURNING`, `SHOW`).

Database drivers type `fetchone()` as optional because a query may return nothing; for these queries an empty
result means the database broke its contract, which is said once here instead of at every call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class RowCursor(Protocol):
    """A DB-API cursor (psycopg, DuckDB, Snowflake) as far as reading one row goes."""

    def fetchone(self) -> Sequence[Any] | None: ...


def one_row(cursor: RowCursor) -> Sequence[Any]:
    """The next row of `cursor`, which must have one."""
    row = cursor.fetchone()
    if row is None:
        raise RuntimeError("the database returned no row for a query that always returns one")
    return row
