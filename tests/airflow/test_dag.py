"""The DAG folder parses without errors into the expected tasks, dependencies, schedule and retries.

Real Airflow DagBag and the real Cosmos rendering of the repo's dbt project (from a fresh `dbt parse` manifest).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from pipeline import orchestrate
from pipeline.naming import SOURCE_TABLES


@pytest.fixture(scope="module")
def dag(airflow_env: dict[str, str]):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(orchestrate.DAGS_FOLDER))
    assert bag.import_errors == {}
    return bag.dags["shopstream_daily"]


def _tests_on_several_models(manifest: Path) -> dict[str, set[str]]:
    """Tests that read more than one model, with those models: Cosmos gives each a task after all of them."""
    nodes = json.loads(manifest.read_text())["nodes"]
    detached = {}
    for node in nodes.values():
        models = {nodes[p]["name"] for p in node["depends_on"]["nodes"] if p.startswith("model.")}
        if node["resource_type"] == "test" and len(models) > 1:
            detached[node["name"]] = models
    return detached


def _model_fqns(manifest: Path) -> dict[str, str]:
    """Every model's name and its fqn (what Cosmos selects a model's build by)."""
    nodes = json.loads(manifest.read_text())["nodes"].values()
    return {node["name"]: ".".join(node["fqn"]) for node in nodes if node["resource_type"] == "model"}


def test_schedule_retries_and_timeout(dag) -> None:
    assert dag.schedule == "0 2 * * *"
    assert dag.catchup is False
    assert {"shopstream"} <= set(dag.tags)
    for task in dag.tasks:
        assert task.retries == 2, task.task_id
        assert task.retry_delay > timedelta(0)
        assert task.execution_timeout is not None


def test_one_extract_and_one_load_per_source_table(dag) -> None:
    ids = set(dag.task_ids)
    assert {f"extract_{t}" for t in SOURCE_TABLES} <= ids
    assert {f"load_{t}" for t in SOURCE_TABLES} <= ids
    for table in SOURCE_TABLES:
        extract = dag.get_task(f"extract_{table}")
        assert extract.upstream_task_ids == {"ensure_source"}
        assert extract.downstream_task_ids == {"publish_manifest"}
        assert dag.get_task(f"load_{table}").upstream_task_ids == {"publish_manifest"}
    # The extracts do not wait on one another: they run in parallel.
    assert not any(t.startswith("extract_") for t in dag.get_task("extract_users").downstream_task_ids)


def test_every_dbt_model_is_one_build_task_after_the_loads(dag, dbt_manifest: Path) -> None:
    """One `dbt build` task per model: the model and the tests on it alone, in one dbt invocation; a test on several
    models is a task of its own after all of them."""
    fqns, detached = _model_fqns(dbt_manifest), _tests_on_several_models(dbt_manifest)
    assert fqns and detached, "the manifest has no models or no test on several models"
    dbt_tasks = {t.task_id for t in dag.tasks if t.task_id.startswith("dbt.")}
    assert not {t for t in dbt_tasks if t.endswith(("_run", ".run", ".test"))}, "a model still has run/test tasks"
    for model, fqn in fqns.items():
        build = dag.get_task(f"dbt.{model}_model_build")
        assert build.select == f"fqn:{fqn}"
        assert build.pool == orchestrate.WAREHOUSE_POOL
    for test, its_models in detached.items():
        task = dag.get_task(f"dbt.{test}_test")
        assert task.upstream_task_ids == {f"dbt.{model}_model_build" for model in its_models}
        for model in its_models:  # left out of each model's own build
            assert test in dag.get_task(f"dbt.{model}_model_build").exclude.split()
    # RAW is read first by stg_load_snapshots (the latest snapshot of each table): it waits for every load, and the
    # staging views wait for its build, tests included (rejected rows stop the run); marts come after the core
    # models they select from.
    snapshots = dag.get_task("dbt.stg_load_snapshots_model_build")
    assert {f"load_{t}" for t in SOURCE_TABLES} <= snapshots.upstream_task_ids
    assert snapshots.task_id in dag.get_task("dbt.stg_orders_model_build").upstream_task_ids
    assert "dbt.fct_order_items_model_build" in dag.get_task("dbt.mart_daily_orders_model_build").upstream_task_ids
    assert "dbt.fct_orders_model_build" in dag.get_task("dbt.dim_customers_model_build").upstream_task_ids


def test_docs_and_summary_come_last(dag) -> None:
    docs = dag.get_task("dbt_docs")
    assert docs.downstream_task_ids == {"summary"}
    assert dag.get_task("summary").downstream_task_ids == set()
    # Docs and churn predictions wait for every leaf of the dbt group.
    after = {"dbt_docs", "churn_predictions"}
    dbt_leaves = {t.task_id for t in dag.tasks if t.task_id.startswith("dbt.") and not t.downstream_task_ids - after}
    assert dbt_leaves == docs.upstream_task_ids
    predictions = dag.get_task("churn_predictions")
    assert predictions.upstream_task_ids == dbt_leaves and predictions.downstream_task_ids == set()
    assert predictions.pool == orchestrate.WAREHOUSE_POOL


def test_each_dbt_task_gets_its_runs_stack_without_touching_the_environment(
    dag, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cloud stack named only by the run's param runs dbt with the `snowflake` target and that stack's profile
    variables; a local stack with `local` and its DuckDB file. The process environment stays as it was."""
    import os

    from pipeline.orchestrate.dbt_group import per_run_stack
    from tests.helpers.cloud import cloud_outputs

    monkeypatch.setenv("SHOPSTREAM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SHOPSTREAM_PRIVACY_SALT", "a-cohort-secret-of-32-characters")
    monkeypatch.delenv("SHOPSTREAM_LOCAL", raising=False)
    outputs = tmp_path / "alice.json"
    outputs.write_text(json.dumps(cloud_outputs("alice")))
    (tmp_path / "home" / "bob").mkdir(parents=True)  # a local stack `shopstream up` made
    run_task = next(t for t in dag.tasks if t.task_id.startswith("dbt.") and t.task_id.endswith("_build"))
    before = dict(os.environ)

    monkeypatch.setenv("SHOPSTREAM_OUTPUTS", str(outputs))
    cloud_task = run_task.__class__.__new__(run_task.__class__)
    cloud_task.__dict__.update(run_task.__dict__)
    per_run_stack({"params": {"stack": "alice"}}, cloud_task)
    assert cloud_task.profile_config.target_name == "snowflake"
    assert cloud_task.env["SHOPSTREAM_SF_DATABASE"] == cloud_outputs("alice")["snowflake_database"]
    monkeypatch.delenv("SHOPSTREAM_OUTPUTS")

    local_task = run_task.__class__.__new__(run_task.__class__)
    local_task.__dict__.update(run_task.__dict__)
    per_run_stack({"params": {"stack": "bob"}}, local_task)
    assert local_task.profile_config.target_name == "local"
    assert local_task.env["SHOPSTREAM_DUCKDB_PATH"] == str(tmp_path / "home" / "bob" / "shopstream.duckdb")

    assert run_task.profile_config.target_name == "local" and "SHOPSTREAM_DBT_TARGET" not in (run_task.env or {})
    profile_variables = ("SHOPSTREAM_DBT_TARGET", "SHOPSTREAM_DUCKDB_PATH", "SHOPSTREAM_SF_DATABASE")
    assert {name: os.environ.get(name) for name in profile_variables} == {
        name: before.get(name) for name in profile_variables
    }


def test_every_task_of_the_dag_takes_the_runs_stack_param(dag) -> None:
    assert dag.params[orchestrate.STACK_PARAM] == ""
    interceptors = {t.task_id: getattr(t, "interceptors", None) for t in dag.tasks if t.task_id.startswith("dbt.")}
    assert interceptors and all(found and found[0].__name__ == "per_run_stack" for found in interceptors.values())


def test_each_dbt_task_hides_the_heap_from_the_collection_after_dbt_and_thaws_it(dag) -> None:
    """Cosmos runs a full `gc.collect()` after each in-process dbt command: the task freezes the heap before (so
    that collection scans only what dbt made) and thaws it after. Fails if a dbt task lacks either hook, or if a
    hook leaves the heap as it found it."""
    import gc

    dbt_tasks = [t for t in dag.tasks if t.task_id.startswith("dbt.")]
    assert dbt_tasks and all(t._pre_execute_hook and t._post_execute_hook for t in dbt_tasks)
    task = dbt_tasks[0]
    try:
        assert gc.get_freeze_count() == 0
        task._pre_execute_hook({})
        assert gc.get_freeze_count() > 1000  # Airflow, the DAG and dbt's modules
        task._post_execute_hook({}, None)
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()
