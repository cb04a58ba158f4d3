"""The transform step: `dbt build` of the repo's dbt project (RAW → STAGING → CORE → MARTS) for one stack.

dbt runs in a subprocess so each build has its own environment (the profile reads everything from env vars) and
no adapter state leaks between stacks or engines in one Python process. Its target and log folders live in the
stack's folder (`<home>/dbt/`), so stacks built at the same time never share files.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from pipeline.errors import ConfigError, DataTestsFailedError, ShopstreamError, brief
from pipeline.processes import die_with_parent
from pipeline.settings import DuckDBWarehouse, Settings
from pipeline.transform.report import NodeResult, TransformReport, read_run_results
from pipeline.warehouse_snowflake import (
    ENV_AUTHENTICATOR,
    ENV_PASSWORD,
    ENV_PRIVATE_KEY_PATH,
    ENV_USER,
    MISSING_CREDENTIALS,
    snowflake_warehouse,
)

__all__ = ["DBT_PROJECT_DIR", "NodeResult", "TransformError", "TransformReport", "build", "dbt_env", "docs"]

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt"

Progress = Callable[[str, int, int], None]  # (what, done, total), as in pipeline.run

# dbt's structured log events that mark a node finished (the stdout we turn into progress).
_RESULT_EVENTS = {
    "LogModelResult",
    "LogTestResult",
    "LogNodeResult",
    "LogSeedResult",
    "LogSnapshotResult",
    "LogNodeNoOpResult",
    "SkippingDetails",
}


class TransformError(DataTestsFailedError):
    """dbt ran but some nodes failed; `report` holds every node's outcome."""

    def __init__(self, message: str, report: TransformReport | None = None) -> None:
        super().__init__(message)
        self.report = report


def dbt_env(settings: Settings) -> dict[str, str]:
    """Environment variables the dbt profile and models read for this stack (no credentials: those stay in the
    environment; the privacy salt is the stack's secret for the `person_key` macro)."""
    from pipeline.privacy.salt import ENV_SALT, privacy_salt

    salt = {ENV_SALT: privacy_salt(settings)}
    if isinstance(settings.warehouse, DuckDBWarehouse):
        return {"SHOPSTREAM_DBT_TARGET": "local", "SHOPSTREAM_DUCKDB_PATH": str(settings.warehouse.path), **salt}
    warehouse = snowflake_warehouse(settings)
    return {
        **salt,
        "SHOPSTREAM_DBT_TARGET": "snowflake",
        "SHOPSTREAM_SF_ACCOUNT": warehouse.account,
        "SHOPSTREAM_SF_DATABASE": warehouse.database,
        "SHOPSTREAM_SF_ROLE": warehouse.role,
        "SHOPSTREAM_SF_WAREHOUSE": warehouse.warehouses["transform"],
    }


def dbt_paths(settings: Settings) -> tuple[Path, Path]:
    """(target-path, log-path) of the stack: dbt's compiled SQL, artifacts and logs."""
    root = settings.home / "dbt"
    return root / "target", root / "logs"


def build(
    settings: Settings,
    select: str | None = None,
    as_of_date: str | None = None,
    progress: Progress | None = None,
    *,
    exclude: str | None = None,
) -> TransformReport:
    """Run `dbt build` (models, data tests, unit tests) for the stack and report every node.

    `select` and `exclude` are dbt selectors (`mart_sales_overview+`, `resource_type:unit_test`). `as_of_date`
    (YYYY-MM-DD) fixes the analysis day, which otherwise is the last day with activity in the data. Raises
    TransformError, carrying the report, when a model or a test fails.
    """
    args = ["build"]
    if select:
        args += ["--select", select]
    if exclude:
        args += ["--exclude", exclude]
    if as_of_date is not None:
        args += ["--vars", json.dumps({"as_of_date": _validate_as_of_date(as_of_date)})]
    report = _invoke(settings, args, progress)
    if report.failures:
        shown = "; ".join(brief(f, 160) for f in report.failures[:3])
        shown += f"; and {report.failed - 3} more" if report.failed > 3 else ""
        raise TransformError(
            f"dbt build failed on {report.failed} node(s): {shown} (details: {report.log_path})", report
        )
    return report


def docs(settings: Settings) -> Path:
    """Generate the dbt documentation site for the stack and return its index.html.

    Also writes `static_index.html`, a single file with the catalog embedded that opens without a web server.
    """
    report = _invoke(settings, ["docs", "generate", "--static"], None)
    index = dbt_paths(settings)[0] / "index.html"
    if not index.exists():
        raise ShopstreamError(f"dbt docs generate wrote no index.html (details: {report.log_path})")
    return index


def _invoke(settings: Settings, args: list[str], progress: Progress | None) -> TransformReport:
    """Run one dbt command in a subprocess and read its run_results.json."""
    _check_warehouse(settings)
    target = dbt_env(settings)["SHOPSTREAM_DBT_TARGET"]
    target_path, log_path = dbt_paths(settings)
    target_path.mkdir(parents=True, exist_ok=True)
    results_file = target_path / "run_results.json"
    results_file.unlink(missing_ok=True)  # never report a previous run's results
    command = [
        *_dbt_command(),
        *args,
        "--project-dir", str(DBT_PROJECT_DIR),
        "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target", target,
        "--target-path", str(target_path),
        "--log-path", str(log_path),
        "--log-format", "json",
    ]  # fmt: skip
    env = {**os.environ, **dbt_env(settings), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    started = time.perf_counter()
    errors = _run_streaming(command, env, progress)
    if not results_file.exists():
        # dbt stopped before running any node: bad project, no connection, locked warehouse file…
        reason = brief(errors[-1]) if errors else "no error message"
        raise ShopstreamError(
            f"dbt {args[0]} could not run for stack {settings.stack!r}: {reason} (details: {log_path / 'dbt.log'})"
        )
    report = read_run_results(results_file, target, log_path / "dbt.log")
    report.seconds = report.seconds or round(time.perf_counter() - started, 3)
    return report


def _run_streaming(command: list[str], env: dict[str, str], progress: Progress | None) -> list[str]:
    """Run dbt, feed finished nodes to `progress`, and return the error messages it logged."""
    errors: list[str] = []
    with subprocess.Popen(
        command,
        env=env,
        cwd=DBT_PROJECT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=die_with_parent(),  # a killed `shopstream run` must not leave dbt holding the warehouse
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            info, data = event.get("info", {}), event.get("data", {})
            if info.get("level") == "error" and info.get("msg"):
                errors.append(str(info["msg"]))  # whole: `brief` picks the telling line of a traceback
            if progress and info.get("name") in _RESULT_EVENTS:
                progress(f"dbt {_node_name(data)}", int(data.get("index") or 0), _node_total(data))
    return errors


def _node_name(data: dict) -> str:
    return data.get("node_info", {}).get("node_name") or data.get("node_name") or data.get("name") or "node"


def _node_total(data: dict) -> int:
    # Model results call it `total`, test results `num_models`.
    return int(data.get("total") or data.get("num_models") or 0)


def _dbt_command() -> list[str]:
    """The dbt of this virtualenv (next to the running interpreter), else the one on PATH."""
    beside = Path(sys.executable).with_name("dbt")
    if beside.exists():
        return [str(beside)]
    if found := shutil.which("dbt"):
        return [found]
    raise ConfigError("dbt is not installed: run `make install-core` (it installs dbt-core and dbt-duckdb)")


def _check_warehouse(settings: Settings) -> None:
    """Fail early, with the next step to take, when dbt could not reach the warehouse anyway."""
    if isinstance(settings.warehouse, DuckDBWarehouse):
        if not settings.warehouse.path.exists():
            raise ShopstreamError(
                f"warehouse {settings.warehouse.path} does not exist yet: "
                f"run `shopstream load --stack {settings.stack}` first"
            )
        return
    snowflake_warehouse(settings)
    if not os.environ.get(ENV_USER) or not (
        os.environ.get(ENV_PASSWORD) or os.environ.get(ENV_PRIVATE_KEY_PATH) or os.environ.get(ENV_AUTHENTICATOR)
    ):
        raise ConfigError(MISSING_CREDENTIALS)


def _validate_as_of_date(value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ShopstreamError(f"as_of_date {value!r} is not a date: use YYYY-MM-DD, e.g. 2025-06-30") from None
