"""The near-real-time road: a simulated clock and order generator in PostgreSQL, micro-batches to the lake's
stream prefix, an incremental load into RAW and incremental live dbt models.

report = run_stream(settings, speed=60, duration=120, batch_seconds=5)
"""

from pipeline.stream.run import StreamReport, run_stream, validate_options

__all__ = ["StreamReport", "run_stream", "validate_options"]
