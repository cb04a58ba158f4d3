"""ShopStream daily: source → lake → warehouse → dbt → docs → summary, once a day at 02:00 for the logical date.

This file only wires: each task calls one `pipeline.orchestrate.tasks` function with the run's stack, and the dbt
task group comes from `pipeline.orchestrate.dbt_group`. The stack is the run's `stack` param, else the Airflow
Variable `shopstream_stack`, else $SHOPSTREAM_STACK, else `dev` — decided when each task runs, dbt tasks included.

The dbt task group is rendered by astronomer-cosmos from the dbt manifest (`shopstream airflow` writes it with
`dbt parse`; $SHOPSTREAM_DBT_MANIFEST points elsewhere), so parsing this file needs no database. Without a manifest
(a fresh checkout) the DAG still imports, with one `dbt_build` task that runs `dbt build` as `shopstream transform`
does, until a manifest renders the full group.

Knobs (environment of the DAG processor, read by `pipeline.settings`): SHOPSTREAM_DBT_INVOCATION=subprocess runs the
virtualenv's `dbt` executable instead of dbt in the task's own process (`dbt_runner`, the default);
SHOPSTREAM_DBT_SELECT renders only part of the dbt project (comma-separated dbt selectors; tests on several models
are kept when any of them is selected, so select a closed part); SHOPSTREAM_DEMO_SCALE is the scale of demo data
generated into an empty local source (default 0.1).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, Param, task

from pipeline.naming import SOURCE_TABLES
from pipeline.orchestrate import DAG_ID, STACK_PARAM, WAREHOUSE_POOL, dbt_manifest_path, stack_for_run, tasks
from pipeline.orchestrate.dbt_group import can_render, task_group
from pipeline.settings import Environment

log = logging.getLogger(__name__)
knobs = Environment.read()


def logical_date(ds: str | None) -> str:
    """The run's logical date (YYYY-MM-DD): Airflow passes `ds` to every task of a DAG run."""
    if ds is None:
        raise ValueError("no logical date: this task runs only inside a DAG run")
    return ds


def _record_failure(context: dict) -> None:
    """The run history gets the failure too (once the task gave up retrying), so Operations shows it."""
    dag_run, task_instance = context.get("dag_run"), context.get("task_instance")
    error = f"{getattr(task_instance, 'task_id', 'a task')} failed: {context.get('exception')}"
    tasks.record_dag_run(stack_for_run(context.get("params")), DAG_ID, getattr(dag_run, "start_date", None), error)


default_args = {
    "owner": "shopstream",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
    "execution_timeout": timedelta(hours=1),
    "on_failure_callback": _record_failure,
}

with DAG(
    dag_id=DAG_ID,
    description="ShopStream: PostgreSQL → Parquet lake → warehouse RAW → dbt (STAGING, CORE, MARTS) → docs",
    schedule="0 2 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    params={STACK_PARAM: Param("", type="string", description="Stack (empty: the Variable shopstream_stack)")},
    tags=["shopstream", "elt", "dbt"],
    doc_md=__doc__,
) as dag:

    @task
    def ensure_source(params: dict[str, Any] | None = None) -> dict:
        """Start the stack's source PostgreSQL (embedded locally) and generate demo data if it is empty."""
        return tasks.ensure_source(stack_for_run(params), scale=knobs.demo_data_scale)

    @task
    def extract(table: str, ds: str | None = None, params: dict[str, Any] | None = None) -> dict:
        """Snapshot one source table into the lake partition of the logical date."""
        return tasks.extract_table(stack_for_run(params), logical_date(ds), table)

    @task
    def publish_manifest(ds: str | None = None, params: dict[str, Any] | None = None) -> str:
        """Mark the date's extraction finished (the run manifest) once every table is in the lake."""
        return tasks.publish_manifest(stack_for_run(params), logical_date(ds))

    @task(pool=WAREHOUSE_POOL)
    def load(table: str, ds: str | None = None, params: dict[str, Any] | None = None) -> dict:
        """Load one table's partition of the logical date into the warehouse's RAW schema."""
        return tasks.load_table(stack_for_run(params), logical_date(ds), table)

    @task(pool=WAREHOUSE_POOL)
    def dbt_docs(params: dict[str, Any] | None = None) -> str:
        """Generate the dbt documentation site (in the stack's folder)."""
        return tasks.generate_docs(stack_for_run(params))

    @task(pool=WAREHOUSE_POOL)
    def churn_predictions(params: dict[str, Any] | None = None) -> dict:
        """Train or load the churn model, write MARTS.mart_churn_predictions (too little data: logged, not failed)."""
        from pipeline.predict.churn import predict_stack

        return predict_stack(stack_for_run(params))

    @task(pool=WAREHOUSE_POOL)
    def summary(ds: str | None = None, dag_run=None, params: dict[str, Any] | None = None) -> dict:
        """Log rows per layer (and record the run in the run history); fails when a mart came out empty."""
        stack = stack_for_run(params)
        result = tasks.summarize(stack, logical_date(ds))
        tasks.record_dag_run(stack, DAG_ID, getattr(dag_run, "start_date", None))
        log.info("ShopStream %s for %s: marts %s", result["stack"], result["extract_date"], result["mart_rows"])
        return result

    @task(pool=WAREHOUSE_POOL)
    def dbt_build(params: dict[str, Any] | None = None) -> str:
        """`dbt build` of the whole project in one task (used until a dbt manifest exists)."""
        return tasks.build_dbt(stack_for_run(params))

    if can_render():
        dbt = task_group(selectors=knobs.dbt_select)
    else:
        # Cosmos cannot render without a manifest, and its `dbt ls` fallback outlasts Airflow's DAG import timeout.
        log.warning(
            "dbt manifest %s is missing: running dbt as one `dbt_build` task. "
            "Run `shopstream airflow` (or `dbt parse`) to get one task per model.",
            dbt_manifest_path(),
        )
        dbt = dbt_build()

    source_ready = ensure_source()
    manifest = publish_manifest()
    for table in SOURCE_TABLES:
        extracted = extract.override(task_id=f"extract_{table}")(table)
        loaded = load.override(task_id=f"load_{table}")(table)
        source_ready >> extracted >> manifest >> loaded >> dbt
    dbt >> dbt_docs() >> summary()
    dbt >> churn_predictions()
