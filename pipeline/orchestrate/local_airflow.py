"""Airflow on this machine for one stack (`shopstream airflow`): its own AIRFLOW_HOME, this repo's DAGs, the dbt
manifest the daily DAG renders from, the warehouse pool. Nothing here runs inside a DAG task.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pipeline.errors import ConfigError, ShopstreamError, brief, last_line
from pipeline.orchestrate import DAGS_FOLDER, ENV_DBT_MANIFEST, WAREHOUSE_POOL, dbt_manifest_path
from pipeline.settings import DBT_PROJECT_DIR, ENV_HOME, ENV_LOCAL, ENV_STACK, Environment, Settings

DEFAULT_PARALLELISM = 4  # task slots: enough for the parallel extracts, small enough for a laptop
AIRFLOW_HOST = "127.0.0.1"
AIRFLOW_PORT = 8080


# -- dbt project for Cosmos ----------------------------------------------------------------------------------------
def parse_dbt_project(manifest: Path | None = None) -> Path:
    """`dbt parse` into the manifest's folder: the DAG renders the dbt task group from it without a database.

    dbt runs in this process (pipeline.transform.runner), as for `shopstream transform`: a subprocess would start a
    second interpreter and import dbt again before Airflow even starts.
    """
    from pipeline.transform import runner

    manifest = manifest or dbt_manifest_path()
    target_path = manifest.parent
    command = [
        "parse",
        "--project-dir", str(DBT_PROJECT_DIR),
        "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target-path", str(target_path),
        "--log-path", str(target_path / "logs"),
    ]  # fmt: skip
    _, errors = runner.invoke(command, env={})
    produced = target_path / "manifest.json"
    if errors or not produced.exists():
        reason = brief(errors[-1]) if errors else "no manifest written"
        raise ShopstreamError(f"dbt parse failed ({reason}); see {target_path / 'logs'}")
    if produced != manifest:
        produced.replace(manifest)
    return manifest


# -- Airflow on this machine ---------------------------------------------------------------------------------------
def airflow_home(settings: Settings) -> Path:
    return settings.home / "airflow"


def airflow_environment(settings: Settings, port: int = AIRFLOW_PORT, parallelism: int = DEFAULT_PARALLELISM) -> dict:
    """Environment of a local Airflow for the stack: its own AIRFLOW_HOME, this repo's DAGs, no examples."""
    return {
        "AIRFLOW_HOME": str(airflow_home(settings)),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": str(parallelism),
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": str(parallelism),
        "AIRFLOW__API__HOST": AIRFLOW_HOST,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://{AIRFLOW_HOST}:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{AIRFLOW_HOST}:{port}/execution/",
        # A laptop's first requests to a cold API server can exceed Airflow's 5 s default and fail the task.
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "30",
        ENV_HOME: str(Environment.read().shopstream_home),
        ENV_STACK: settings.stack,
        **({ENV_LOCAL: "1"} if settings.local else {}),  # the tasks use the twins `shopstream airflow` chose
        ENV_DBT_MANIFEST: str(dbt_manifest_path()),
        # `airflow standalone` starts its scheduler, API server, ... as a bare `airflow` found on PATH: this
        # virtualenv's bin folder comes first, so it works without activating the virtualenv.
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }


def airflow_command(name: str) -> list[str]:
    beside = Path(sys.executable).with_name(name)
    if beside.exists():
        return [str(beside)]
    raise ConfigError("Airflow is not installed in this virtualenv: run `make install-all`")


def prepare_airflow(settings: Settings, env: dict[str, str]) -> None:
    """Parse the dbt project, migrate Airflow's metadata database and create the warehouse pool."""
    airflow_home(settings).mkdir(parents=True, exist_ok=True)
    parse_dbt_project(Path(env[ENV_DBT_MANIFEST]))
    full_env = {**os.environ, **env}
    airflow = airflow_command("airflow")
    _run_airflow([*airflow, "db", "migrate"], full_env, "airflow db migrate")
    # DuckDB has one writer: one slot serialises loads and dbt; raise it for a cloud warehouse.
    slots = "1" if settings.warehouse.kind == "duckdb" else str(DEFAULT_PARALLELISM)
    description = "tasks that write the ShopStream warehouse"
    _run_airflow([*airflow, "pools", "set", WAREHOUSE_POOL, slots, description], full_env, "airflow pools set")


def admin_password_file(settings: Settings) -> Path:
    return airflow_home(settings) / "simple_auth_manager_passwords.json.generated"


def _run_airflow(command: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = last_line(result.stderr or result.stdout)
        raise ShopstreamError(f"{what} failed: {tail}")
