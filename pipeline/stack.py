"""One stack, as every entry point sees it: its settings, its names and the adapters of its three edges.

    stack = Stack.open("alice")          # CLI option > environment > stack outputs > defaults (pipeline.settings)
    stack.settings                       # what the steps take
    stack.names                          # every physical name (pipeline.naming)
    stack.source_dsn()                   # the source PostgreSQL (embedded or by DSN)
    stack.lake                           # the lake (a directory or S3), laid out by pipeline.lake_contract
    stack.warehouse                      # DuckDB or Snowflake, behind pipeline.warehouse.Warehouse

The CLI, the Airflow tasks, the benchmarks and the dashboard open a `Stack`; the steps they call are plain
functions of its settings, and `pipeline.run` is the one module that chains them into the road.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.naming import StackNames
from pipeline.settings import Environment, Settings, resolve_settings

if TYPE_CHECKING:  # Arrow and the warehouse drivers load when a command first needs an edge, not at start-up
    from pipeline.lake import Lake
    from pipeline.warehouse import Warehouse


@dataclass(frozen=True)
class Stack:
    settings: Settings

    @classmethod
    def open(
        cls,
        name: str | None = None,
        outputs_file: Path | None = None,
        *,
        local: bool = False,
        create: bool = False,
        env: Environment | None = None,
    ) -> Stack:
        """The stack `name` (default: $SHOPSTREAM_STACK, else dev), local or cloud as `pipeline.settings` decides."""
        return cls(resolve_settings(name, outputs_file, local=local, create=create, env=env))

    @property
    def name(self) -> str:
        return self.settings.stack

    @property
    def names(self) -> StackNames:
        return self.settings.names

    @property
    def home(self) -> Path:
        return self.settings.home

    def source_dsn(self) -> str:
        """The running source's DSN (a one-line error when it is not running)."""
        from pipeline.source import source_dsn

        return source_dsn(self.settings)

    @cached_property
    def lake(self) -> Lake:
        from pipeline.lake import Lake

        return Lake.from_settings(self.settings.lake)

    @cached_property
    def warehouse(self) -> Warehouse:
        from pipeline.warehouse import warehouse_for

        return warehouse_for(self.settings)
