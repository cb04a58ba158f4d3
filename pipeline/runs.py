"""The run history: one row per command or DAG run in the warehouse (`RAW._RUN_HISTORY`), for the dashboard's
Operations page — what ran, how long each step took, rows per layer, quarantined files, dbt tests, the outcome.

Recording is best effort: a history that cannot be written (warehouse locked by the dashboard, Snowflake stack,
disk full) never changes a command's result. Only the local DuckDB warehouse keeps a history for now.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from pipeline.errors import ShopstreamError
from pipeline.settings import DuckDBWarehouse, Settings

RUN_HISTORY_TABLE = "RAW._RUN_HISTORY"
RECORDED_COMMANDS = ("generate", "extract", "load", "transform", "run")

CREATE_TABLE = f"""
CREATE TABLE IF NOT EXISTS {RUN_HISTORY_TABLE} (
    run_id VARCHAR NOT NULL,
    origin VARCHAR NOT NULL,        -- cli, airflow
    command VARCHAR NOT NULL,       -- run, load, ... or the DAG id
    started_at TIMESTAMP NOT NULL,  -- UTC
    seconds DOUBLE NOT NULL,
    outcome VARCHAR NOT NULL,       -- success, quarantined, nothing_to_load, failed
    exit_code INTEGER NOT NULL,
    error VARCHAR,
    steps VARCHAR,                  -- JSON list of {{name, seconds, detail}}
    layer_rows VARCHAR,             -- JSON {{schema: {{table: rows}}}}
    quarantined_files INTEGER,
    tests_passed INTEGER,
    tests_failed INTEGER
)
"""

OUTCOMES = {0: "success", 3: "quarantined", 4: "nothing_to_load"}


@dataclass
class RunRecord:
    origin: str
    command: str
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC).replace(tzinfo=None))
    seconds: float = 0.0
    exit_code: int = 0
    error: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    layer_rows: dict[str, dict[str, int]] = field(default_factory=dict)
    quarantined_files: int | None = None
    tests_passed: int | None = None
    tests_failed: int | None = None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    _clock: float = field(default_factory=time.perf_counter, repr=False)

    @property
    def outcome(self) -> str:
        return OUTCOMES.get(self.exit_code, "failed")

    def finish(self, exit_code: int = 0, error: str | None = None) -> RunRecord:
        self.seconds = round(time.perf_counter() - self._clock, 3)
        self.exit_code, self.error = exit_code, error
        return self

    def add_summary(self, summary: Any) -> None:
        """Steps, rows, quarantines and tests of a `run_all` summary (pipeline.run.RunSummary)."""
        self.steps = [asdict(step) for step in summary.steps]
        if summary.status is not None:
            self.layer_rows = summary.status.warehouse_rows
        if summary.load is not None:
            self.quarantined_files = len(summary.load.quarantined)
        if summary.transform is not None:
            self.tests_passed = summary.transform.tests_passed
            self.tests_failed = summary.transform.failed


def record(settings: Settings, run: RunRecord) -> bool:
    """Append `run` to the stack's history; False when it could not be written (never raises)."""
    warehouse = settings.warehouse
    if not isinstance(warehouse, DuckDBWarehouse) or not warehouse.path.parent.is_dir():
        return False
    row = [
        run.run_id, run.origin, run.command, run.started_at, run.seconds, run.outcome, run.exit_code, run.error,
        json.dumps(run.steps), json.dumps(run.layer_rows), run.quarantined_files, run.tests_passed, run.tests_failed,
    ]  # fmt: skip
    import duckdb  # here, not at the top: every command imports this module when the CLI starts

    try:
        with duckdb.connect(str(warehouse.path)) as con:
            con.execute("CREATE SCHEMA IF NOT EXISTS RAW")
            con.execute(CREATE_TABLE)
            con.execute(f"INSERT INTO {RUN_HISTORY_TABLE} VALUES ({', '.join('?' * len(row))})", row)
    except (duckdb.Error, OSError):
        return False
    return True


def record_command(stack: str, command: str, run: RunRecord) -> None:
    """Record a CLI command's run, if the stack resolves to one with a local warehouse."""
    from pipeline.settings import resolve_settings

    try:
        settings = resolve_settings(stack)
    except ShopstreamError:
        return
    record(settings, run)
