"""The near-real-time road: a simulated clock and order generator in PostgreSQL, micro-batches to the lake's
stream prefix, an incremental load into RAW and incremental live dbt models.

report = run_stream(settings, speed=60, duration=120, batch_seconds=5)

Nothing is imported until used: every `shopstream` command imports this package for its `stream` subcommand,
and the road behind it (psycopg, Arrow, the lake) would cost each of them a few tenths of a second.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.stream.run import StreamReport, run_stream, validate_options

__all__ = ["StreamReport", "run_stream", "validate_options"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from pipeline.stream import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
