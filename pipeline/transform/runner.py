"""dbt in this process, through `dbt.cli.main.dbtRunner`: no interpreter start-up and no second import of dbt.

dbt keeps global state while it runs (its flags, its event logger, the adapters, and dbt-duckdb's shared DuckDB
handle), so `invoke` holds a lock: one dbt command at a time per process, whatever the thread. The profile reads
the stack from environment variables; they are set for the duration of the command and restored after it. After
every command the DuckDB file dbt-duckdb keeps open is closed, so the next command (or the loader) can open the
warehouse, possibly another stack's.
"""

from __future__ import annotations

import contextlib
import gc
import sys
import threading
from collections.abc import Iterator
from typing import Any

from pipeline.progress import Progress
from pipeline.settings import temporary_environment

_DBT_LOCK = threading.Lock()
_resume_collector_after_dbt = True
_QUIET_ENV = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}

# dbt's structured log events that mark a node finished (what we turn into progress).
_RESULT_EVENTS = frozenset(
    {
        "LogModelResult",
        "LogTestResult",
        "LogNodeResult",
        "LogSeedResult",
        "LogSnapshotResult",
        "LogNodeNoOpResult",
        "SkippingDetails",
    }
)


def invoke(
    args: list[str], env: dict[str, str], progress: Progress | None = None, manifest: Any = None
) -> tuple[Any, list[str]]:
    """Run one dbt command in this process: (what dbt returned, e.g. a RunExecutionResult, a Manifest or None, the
    error messages it logged). With `manifest` (what `dbt parse` returned for the same project, profile and
    environment), dbt skips parsing.

    dbt writes nothing to stdout (`--log-level none`): nodes are reported through `progress`, and the log file under
    `--log-path` gets dbt's info level: every node's outcome and every error. (Debug level, every SQL statement,
    costs about a third of a small build's time; `dbt --debug` from a shell shows it when needed.)
    """
    errors: list[str] = []

    def on_event(event: Any) -> None:
        info = event.info
        if info.level == "error" and info.msg:
            errors.append(str(info.msg))  # whole: `pipeline.errors.brief` picks the telling line of a traceback
        if progress and info.name in _RESULT_EVENTS:
            data = event.data
            progress(f"dbt {_node_name(data)}", int(getattr(data, "index", 0) or 0), _node_total(data))

    command = [*args, "--log-level", "none", "--log-level-file", "info"]
    with _DBT_LOCK, temporary_environment({**env, **_QUIET_ENV}), collector_paused():
        from dbt.cli.main import dbtRunner

        try:
            result = dbtRunner(manifest=manifest, callbacks=[on_event]).invoke(command)
        finally:
            release_duckdb()
    if result.exception is not None and not errors:
        errors.append(str(result.exception) or type(result.exception).__name__)
    return result.result, errors


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """CPython's cyclic garbage collector paused while dbt is imported and runs, resumed after.

    Importing dbt, parsing the project and building it allocate hundreds of thousands of objects that stay alive
    until the command ends (dbt's classes, the manifest, the compiled nodes). With the collector on, CPython scans
    them in some 900 collections, five of them over the whole heap: 0.9 s of work in a 6-second `shopstream
    transform` at SF 1, which is about 0.4 s faster paused. The build keeps the garbage cycles it makes until the
    collector resumes (some 30 MiB more at the peak, at any scale: the data stays in DuckDB), and the next
    automatic collection frees them, unless the process ends with its build (`exit_after_dbt`).
    """
    if not gc.isenabled():  # paused by the caller: theirs to resume
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if _resume_collector_after_dbt:
            gc.enable()


def exit_after_dbt() -> None:
    """Declare that this process ends once its dbt command is over (`shopstream transform`, `shopstream run`): from
    now on the collector stays paused after dbt's commands.

    Everything dbt allocated while the collector was paused is still in its youngest generation, so the first
    automatic collection after resuming scans all of it: about 0.4 s, at any scale, to free memory that a process
    about to exit gives back anyway. A process that goes on (a test session, the stream's refresh loop, an Airflow
    worker) never calls this.
    """
    global _resume_collector_after_dbt
    _resume_collector_after_dbt = False


def release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open between commands (a class attribute, shared process-wide)."""
    connections = sys.modules.get("dbt.adapters.duckdb.connections")
    if connections is None:
        return
    manager = connections.DuckDBConnectionManager
    with manager._LOCK:
        if manager._ENV is not None:
            manager._ENV.close()
            manager._ENV = None


def _node_name(data: Any) -> str:
    node_info = getattr(data, "node_info", None)
    return getattr(node_info, "node_name", "") or getattr(data, "node_name", "") or getattr(data, "name", "") or "node"


def _node_total(data: Any) -> int:
    # Model results call it `total`, test results `num_models`.
    return int(getattr(data, "total", 0) or getattr(data, "num_models", 0) or 0)
