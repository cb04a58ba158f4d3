"""The environment `shopstream airflow` gives `airflow standalone` (the DAG tests run Airflow itself), and its dbt
parse when it fails."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from pipeline import orchestrate
from pipeline.errors import ShopstreamError
from pipeline.orchestrate import local_airflow
from pipeline.settings import local_settings


def test_standalone_finds_this_virtualenvs_airflow_without_activation(monkeypatch, tmp_path: Path) -> None:
    # `airflow standalone` starts its scheduler and API server as a bare `airflow` looked up on PATH.
    monkeypatch.setenv("SHOPSTREAM_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    env = local_airflow.airflow_environment(local_settings("dev"), port=8099, parallelism=3)

    found = shutil.which("airflow", path=env["PATH"])
    assert found is not None
    assert Path(found).parent == Path(local_airflow.airflow_command("airflow")[0]).parent
    assert env["PATH"].endswith("/usr/bin:/bin")


def test_local_airflow_is_private_small_and_on_loopback(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SHOPSTREAM_HOME", str(tmp_path))
    settings = local_settings("dev")
    env = local_airflow.airflow_environment(settings, port=8099, parallelism=3)

    assert env["AIRFLOW_HOME"] == str(tmp_path / "dev" / "airflow")
    assert Path(env["AIRFLOW__CORE__DAGS_FOLDER"]) == orchestrate.DAGS_FOLDER
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__CORE__PARALLELISM"] == "3"
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert env["AIRFLOW__API__BASE_URL"] == "http://127.0.0.1:8099"
    assert env["SHOPSTREAM_HOME"] == str(tmp_path) and env["SHOPSTREAM_STACK"] == "dev"
    assert os.pathsep in env["PATH"]


def test_a_failed_dbt_parse_is_one_line_with_dbts_reason_and_the_logs(monkeypatch, tmp_path: Path) -> None:
    """`shopstream airflow` parses the project in its own process; a failure (here a profile target that does not
    exist) is one line with dbt's reason and where its log is, and no manifest is written."""
    monkeypatch.setenv("SHOPSTREAM_DBT_TARGET", "no_such_target")
    with pytest.raises(ShopstreamError) as failure:
        local_airflow.parse_dbt_project(tmp_path / "manifest.json")
    message = str(failure.value)
    assert "\n" not in message and "no_such_target" in message and str(tmp_path / "logs") in message, message
    assert not (tmp_path / "manifest.json").exists()
