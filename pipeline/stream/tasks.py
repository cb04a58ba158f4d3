"""What the stream's Airflow DAGs call (`dags/shopstream_stream.py`), one function per task, stack by name.

The stream command publishes batches with `--publish-only` when Airflow does the loading; these functions then load
every journaled batch not loaded yet and refresh the live models, exactly as the command does on its own.
"""

from __future__ import annotations

from pipeline.lake import Lake
from pipeline.settings import resolve_settings
from pipeline.source import source_dsn
from pipeline.source.database import open_connection
from pipeline.stream.load import LIVE_MODELS, load_pending, pending_batches
from pipeline.stream.state import apply_stream_schema


def pending_batch_count(stack: str) -> int:
    """Journaled batches that are not in the warehouse yet."""
    settings = resolve_settings(stack)
    with open_connection(source_dsn(settings)) as conn:
        apply_stream_schema(conn)
        return len(pending_batches(conn))


def load_stream_batches(stack: str) -> dict:
    """Load the pending batches into RAW (load history: each file once) and refresh the live models."""
    from pipeline.transform import build

    settings = resolve_settings(stack)
    with open_connection(source_dsn(settings)) as conn:
        apply_stream_schema(conn)
        batches = [batch_no for batch_no, _ in pending_batches(conn)]
        files = load_pending(settings, conn, Lake.from_settings(settings.lake), warehouse_must_exist=False)
    report = build(settings, select=LIVE_MODELS, exclude="resource_type:test resource_type:unit_test")
    return {"batches": batches, "files": files, "models": report.models_built}
