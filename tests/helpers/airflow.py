"""Airflow test fixtures: a private AIRFLOW_HOME and dbt manifest per session, never the user's.

Airflow reads its configuration when first imported, so tests that need a metadata database run Airflow in a
subprocess with their own environment (`run_dag.py`); DAG parsing runs in-process with the environment below.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline import orchestrate
from pipeline.orchestrate import local_airflow

QUIET_AIRFLOW = {
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
    "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DO_NOT_TRACK": "1",
}


@pytest.fixture(scope="session")
def dbt_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dbt manifest the DAG renders from, written by the same function `shopstream airflow` uses."""
    return local_airflow.parse_dbt_project(tmp_path_factory.mktemp("dbt_manifest") / "manifest.json")


@pytest.fixture(scope="session")
def airflow_env(tmp_path_factory: pytest.TempPathFactory, dbt_manifest: Path) -> Iterator[dict[str, str]]:
    """Environment of an isolated Airflow: temporary AIRFLOW_HOME (its metadata DB migrated) and dbt manifest."""
    home = tmp_path_factory.mktemp("airflow_home")
    env = {
        **QUIET_AIRFLOW,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(orchestrate.DAGS_FOLDER),
        orchestrate.ENV_DBT_MANIFEST: str(dbt_manifest),
        # Cosmos caches rendered projects per DAG; keep this session's cache out of the shared /tmp/cosmos.
        "AIRFLOW__COSMOS__CACHE_DIR": str(home / "cosmos"),
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        yield env


@pytest.fixture(scope="session")
def migrated_airflow(airflow_env: dict[str, str]) -> dict[str, str]:
    """The isolated Airflow with its metadata database created (`airflow db migrate`)."""
    airflow = Path(sys.executable).with_name("airflow")
    result = subprocess.run(
        [str(airflow), "db", "migrate"], env={**os.environ, **airflow_env}, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return airflow_env
