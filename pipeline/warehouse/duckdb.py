"""The local warehouse twin: one DuckDB file per stack, opened for a step and closed after it.

DuckDB allows one writer per file and no reader while it writes, so nothing keeps the file open between steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb

from pipeline.errors import WAREHOUSE_IN_USE, ResourceError, ShopstreamError, first_line, is_duckdb_lock
from pipeline.settings import DuckDBWarehouse, Settings

DBT_TARGET = "local"


def duckdb_warehouse(settings: Settings) -> DuckDBWarehouse:
    if not isinstance(settings.warehouse, DuckDBWarehouse):
        raise ShopstreamError(f"stack {settings.stack!r} uses a {settings.warehouse.kind} warehouse, not DuckDB")
    return settings.warehouse


@contextmanager
def open_warehouse(settings: Settings, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the stack's DuckDB file for one step, closed on exit, with one-line errors."""
    warehouse = duckdb_warehouse(settings)
    try:
        if not read_only:
            warehouse.path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(warehouse.path), read_only=read_only)
    except duckdb.Error as exc:
        raise warehouse_error(exc, warehouse) from exc
    try:
        yield con
    except duckdb.Error as exc:
        raise warehouse_error(exc, warehouse) from exc
    finally:
        con.close()


def warehouse_error(exc: duckdb.Error, warehouse: DuckDBWarehouse) -> ShopstreamError:
    text = str(exc)
    if is_duckdb_lock(exc):
        return ResourceError(WAREHOUSE_IN_USE)
    if "No space left" in text or "not enough space" in text.lower():
        return ResourceError(f"disk full while writing {warehouse.path}: free some space and rerun")
    return ShopstreamError(f"DuckDB warehouse {warehouse.path}: {first_line(exc)}")


@dataclass(frozen=True)
class DuckDB:
    """The `Warehouse` adapter of a local stack."""

    settings: Settings
    kind: str = "duckdb"

    @property
    def location(self) -> str:
        return str(duckdb_warehouse(self.settings).path)

    @property
    def dbt_target(self) -> str:
        return DBT_TARGET

    def check_ready(self) -> None:
        path = duckdb_warehouse(self.settings).path
        if not path.exists():
            raise ShopstreamError(
                f"warehouse {path} does not exist yet: run `shopstream load --stack {self.settings.stack}` first"
            )

    def layer_counts(self) -> dict[str, dict[str, int]]:
        from pipeline.load.duckdb import layer_counts

        return layer_counts(self.settings)
