"""The stream DAGs: they parse on a fresh checkout, the load DAG is scheduled on the stream asset, the watch DAG
produces it, and a `dag.test()` of the load DAG loads one journaled batch into RAW and the live marts.

Real Airflow (its own metadata DB), embedded PostgreSQL, a lake folder, DuckDB and dbt.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from pipeline import orchestrate
from pipeline.lake import Lake
from pipeline.stream.capture import capture_batch, ensure_lake
from pipeline.stream.simulate import simulate_minute
from tests.helpers.source import drop_source_database
from tests.helpers.stream import new_stream_stack, prepared


@pytest.fixture(scope="module")
def stream_dags(airflow_env: dict[str, str]):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(orchestrate.DAGS_FOLDER))
    assert bag.import_errors == {}
    return bag.dags["shopstream_stream_watch"], bag.dags["shopstream_stream_load"]


def test_the_load_dag_is_scheduled_on_the_stream_asset_the_watch_dag_produces(stream_dags) -> None:
    watch, load = stream_dags
    (asset,) = load.timetable.asset_condition.objects
    assert asset.name == "shopstream_stream_batches"
    assert asset.uri == "shopstream://lake/raw/stream"
    assert [outlet.uri for outlet in watch.get_task("announce_new_batches").outlets] == [asset.uri]
    assert load.get_task("load_and_refresh").pool == orchestrate.WAREHOUSE_POOL
    for task in [*watch.tasks, *load.tasks]:
        assert task.retries == 2 and task.execution_timeout is not None


def test_a_dag_test_run_loads_one_batch(migrated_airflow: dict[str, str], source_settings) -> None:
    settings = new_stream_stack(source_settings)
    try:
        conn, catalog = prepared(settings)
        lake = Lake.from_settings(settings.lake)
        ensure_lake(lake)
        simulate_minute(conn, catalog, datetime(2026, 1, 1), seed=5)
        batch = capture_batch(conn, lake)
        assert batch is not None
        env = {
            **os.environ,
            **migrated_airflow,
            "SHOPSTREAM_STACK": settings.stack,
            "SHOPSTREAM_PG_DSN": settings.source.dsn.get_secret_value(),
            "SHOPSTREAM_LAKE_URI": settings.lake.uri,
        }
        script = Path(__file__).with_name("run_stream_dag.py")
        result = subprocess.run(
            [sys.executable, str(script), "shopstream_stream_load"],
            env=env, capture_output=True, text=True, timeout=600, cwd=orchestrate.REPO,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-3000:]
        outcome = json.loads(result.stdout.strip().splitlines()[-1])
        assert outcome["state"] == "success", outcome
        with duckdb.connect(str(settings.warehouse.path), read_only=True) as con:
            (mart,) = con.execute("SELECT count(*) FROM MARTS.mart_live_orders").fetchone()
        assert mart == len(batch.new_orders) > 0
        assert conn.execute("SELECT count(*) FROM stream_batches WHERE loaded_at IS NULL").fetchone()[0] == 0
        conn.close()
    finally:
        drop_source_database(settings.source.dsn.get_secret_value())
