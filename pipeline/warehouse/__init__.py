"""The warehouse edge of the road: one small interface, two adapters side by side.

    duckdb.py      the local twin: one DuckDB file in the stack's home
    snowflake.py   a cloud stack's Snowflake database (names from the stack outputs, credentials from the env)

Entry points reach a stack's warehouse through `Warehouse`; each engine's loader lives in `pipeline.load`.
"""

from __future__ import annotations

from typing import Protocol

from pipeline.settings import DuckDBWarehouse, Settings


class Warehouse(Protocol):
    @property
    def kind(self) -> str:
        """duckdb | snowflake"""
        ...

    @property
    def location(self) -> str:
        """Where the warehouse is, for people (a file, or snowflake://account/database)."""
        ...

    @property
    def dbt_target(self) -> str:
        """The target of `dbt/profiles.yml` that builds this warehouse."""
        ...

    def check_ready(self) -> None:
        """Fail early, with the next step to take, when no step could reach the warehouse anyway."""
        ...

    def layer_counts(self) -> dict[str, dict[str, int]]:
        """Rows per relation per schema (RAW, STAGING, CORE, MARTS); empty when not counted."""
        ...


def warehouse_for(settings: Settings) -> Warehouse:
    if isinstance(settings.warehouse, DuckDBWarehouse):
        from pipeline.warehouse.duckdb import DuckDB

        return DuckDB(settings)
    from pipeline.warehouse.snowflake import Snowflake

    return Snowflake(settings)
