"""The whole DAG runs with `dag.test()` against a local embedded stack: success fills the marts; a broken task
fails the run. Both runs happen in one Airflow process (`run_dag.py`), the failing one second, for the next day.

Real parts only: embedded PostgreSQL, the Parquet lake, DuckDB, dbt through Cosmos, Airflow's metadata database
(migrated in a temporary AIRFLOW_HOME). The stack is private to this module (its own SHOPSTREAM_HOME and port), so
its demo data never changes the session's shared stack. The whole dbt project runs (one Cosmos task per model run
and test), so this is the slowest Airflow test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipeline.naming import SOURCE_TABLES
from pipeline.settings import ENV_HOME, ENV_PG_PORT, local_settings
from pipeline.source import down
from pipeline.source.server import free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

RUN_DAG = Path(__file__).with_name("run_dag.py")
LOGICAL_DATE = "2026-11-24"
NEXT_DAY = "2026-11-25"


@pytest.fixture(scope="module")
def stack_env(migrated_airflow: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment of the DAG's tasks: a fresh local stack `dev`, stopped (and its server gone) at the end."""
    home = tmp_path_factory.mktemp("airflow_stack")
    env = {
        **migrated_airflow,
        ENV_HOME: str(home),
        ENV_PG_PORT: str(free_port()),
        "SHOPSTREAM_STACK": "dev",
        "SHOPSTREAM_DEMO_SCALE": "0.05",
    }
    yield env
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ENV_HOME, env[ENV_HOME])
        patch.setenv(ENV_PG_PORT, env[ENV_PG_PORT])
        down(local_settings("dev"))


def run_dag(env: dict[str, str], *runs: str) -> list[dict]:
    """`dag.test()` of each run (`date` or `date:lake_uri`) in one subprocess: each run's outcome, with the log."""
    result = subprocess.run(
        [sys.executable, str(RUN_DAG), *runs],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    log = result.stdout[-20000:] + result.stderr[-20000:]
    outcomes = [json.loads(line) for line in result.stdout.splitlines() if line.startswith('{"logical_date"')]
    assert [outcome["logical_date"] for outcome in outcomes] == [run.partition(":")[0] for run in runs], log[-4000:]
    return [{**outcome, "log": log} for outcome in outcomes]


@pytest.fixture(scope="module")
def runs(stack_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    """The run of LOGICAL_DATE, then a run of the next day whose lake is a file, not a directory."""
    not_a_directory = tmp_path_factory.mktemp("broken") / "lake-is-a-file"
    not_a_directory.write_text("this file is where the lake should be")
    first, failed = run_dag(stack_env, LOGICAL_DATE, f"{NEXT_DAY}:{not_a_directory}")
    return first, failed


@pytest.fixture(scope="module")
def first_run(runs: tuple[dict, dict]) -> dict:
    return runs[0]


def test_the_dag_succeeds_and_fills_the_marts(first_run: dict, stack_env: dict[str, str]) -> None:
    failed = {task: state for task, state in first_run["tasks"].items() if state != "success"}
    assert first_run["state"] == "success", (failed, first_run["log"][-6000:])
    assert all(state == "success" for state in first_run["tasks"].values()), first_run["tasks"]
    home = Path(stack_env[ENV_HOME]) / "dev"
    with duckdb.connect(str(home / "shopstream.duckdb"), read_only=True) as con:
        raw = {t: con.execute(f'SELECT count(*) FROM RAW."{t}"').fetchone()[0] for t in SOURCE_TABLES}
        (orders,) = con.execute("SELECT count(*) FROM RAW.orders").fetchone()
        (mart_orders, mart_revenue) = con.execute(
            "SELECT sum(total_orders), sum(total_revenue) FROM MARTS.mart_daily_orders"
        ).fetchone()
        files = con.execute("SELECT DISTINCT _source_file FROM RAW.orders").fetchall()
    assert all(rows > 0 for rows in raw.values()), raw
    # The mart counts the orders loaded for the logical date's partition.
    assert files == [(f"raw/postgres/orders/dt={LOGICAL_DATE}/part-0000.parquet",)]
    assert 0 < mart_orders <= orders
    assert mart_revenue > 0
    # The run manifest was published from the six table manifests.
    manifest = json.loads((home / "lake" / "raw/_manifests" / f"dt={LOGICAL_DATE}" / "manifest.json").read_text())
    assert {entry["table"]: entry["rows"] for entry in manifest["files"]} == raw
    assert (home / "dbt" / "target" / "index.html").exists()


def test_a_failing_task_fails_the_run(runs: tuple[dict, dict]) -> None:
    _, failed = runs
    assert failed["state"] == "failed"
    tasks = failed["tasks"]
    assert tasks["ensure_source"] == "success"
    assert {tasks[f"extract_{t}"] for t in SOURCE_TABLES} == {"failed"}
    assert {tasks[f"load_{t}"] for t in SOURCE_TABLES} == {"upstream_failed"}
    assert tasks["summary"] == "upstream_failed"
