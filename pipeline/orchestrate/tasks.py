"""What the Airflow DAG's tasks call, one function per task.

Each takes the run's stack name explicitly (`pipeline.orchestrate.stack_for_run` picks it from the run), opens
the stack (`pipeline.stack.Stack`), runs one step of `pipeline.run` or a single step package, and closes what it
opened before returning: DuckDB allows one writer per file, and `dag.test()` runs every task in one process.
Return values are small JSON-friendly dicts, so Airflow can keep them as XComs. Nothing here touches
`os.environ`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline import run as road
from pipeline import source
from pipeline.errors import QuarantinedFilesError, ShopstreamError
from pipeline.naming import is_live_mart
from pipeline.stack import Stack


def ensure_source(stack: str, scale: float = 0.1, seed: int | None = None) -> dict:
    """Start the stack's source (embedded PostgreSQL) and fill it with demo data when it is empty. Like
    `shopstream up`, it creates a local stack when Pulumi knows no stack of that name."""
    from pipeline.source.database import describe

    settings = Stack.open(stack, create=True).settings
    dsn = source.up(settings)
    generated = road.generate_if_empty(settings, dsn, scale, seed)
    return {"source": describe(dsn), "generated_rows": sum(generated.values()) if generated else 0}


def extract_table(stack: str, extract_date: str, table: str) -> dict:
    """Snapshot one source table into the lake for `extract_date` (its own table manifest, no run manifest)."""
    from pipeline.extract import extract

    report = extract(Stack.open(stack).settings, extract_date, tables=[table])
    (extracted,) = report.tables
    return {"table": table, "key": extracted.key, "rows": extracted.rows, "sha256": extracted.sha256}


def publish_manifest(stack: str, extract_date: str) -> str:
    """Mark the date's extraction finished once every table is in the lake."""
    from pipeline.extract import publish_manifest as publish

    return publish(Stack.open(stack).settings, extract_date)


def load_table(stack: str, extract_date: str, table: str) -> dict:
    """Load one table's files of `extract_date` into RAW; a quarantined file fails the task (after the rest loaded)."""
    from pipeline.load import load

    report = load(Stack.open(stack).settings, extract_date, tables=[table])
    outcome = report.table(table)
    if outcome.quarantined:
        reasons = "; ".join(f"{q.key}: {q.reason}" for q in outcome.quarantined)
        raise QuarantinedFilesError(f"{len(outcome.quarantined)} {table} file(s) quarantined: {reasons}")
    return {
        "table": table,
        "files_loaded": outcome.files_loaded,
        "files_skipped": outcome.files_skipped,
        "rows_loaded": outcome.rows_loaded,
    }


def build_dbt(stack: str) -> str:
    """`dbt build` of the whole project, as `shopstream transform` runs it; fails when a model or test fails."""
    report = road.transform(Stack.open(stack).settings)
    if report is None:
        raise ShopstreamError("dbt project not found next to the pipeline")
    if report.failed:
        raise ShopstreamError(f"dbt build failed: {road.describe_transform(report)}")
    return road.describe_transform(report)


def generate_docs(stack: str) -> str:
    """Generate the dbt documentation site; the path of its index.html."""
    index = road.docs(Stack.open(stack).settings)
    if index is None:
        raise ShopstreamError("dbt project not found next to the pipeline")
    return str(index)


def summarize(stack: str, extract_date: str) -> dict:
    """Rows per layer after the run; fails when a mart is empty (the run produced nothing to look at)."""
    status = road.stack_status(Stack.open(stack).settings)
    marts = status.warehouse_rows.get("MARTS", {})
    summary = {
        "stack": stack,
        "extract_date": extract_date,
        "lake_date": status.lake_date,
        "raw_rows": status.warehouse_rows.get("RAW", {}),
        "mart_rows": marts,
        "warehouse": status.warehouse,
        "notes": status.notes,
    }
    empty = sorted(name for name, rows in marts.items() if rows == 0 and not is_live_mart(name))
    if empty:
        raise ShopstreamError(f"stack {stack!r}: empty marts after the run: {', '.join(empty)}")
    return summary


def record_dag_run(stack: str, dag_id: str, started_at: datetime | None, error: str | None = None) -> bool:
    """Append the DAG run to the stack's run history (success, or the failed task's error)."""
    from pipeline.runs import RunRecord, record

    settings = Stack.open(stack).settings
    run = RunRecord(origin="airflow", command=dag_id)
    if started_at is not None:
        run.started_at = started_at.astimezone(UTC).replace(tzinfo=None)
    run.finish(0 if error is None else 1, error)
    run.seconds = (datetime.now(UTC).replace(tzinfo=None) - run.started_at).total_seconds()
    if error is None:
        run.layer_rows = road.stack_status(settings).warehouse_rows
    return record(settings, run)
