"""ShopStream daily: source → lake → warehouse → dbt → docs → summary, once a day at 02:00 for the logical date.

Each task calls one `pipeline.orchestrate` function; this file only wires them. The stack is the Airflow Variable
`shopstream_stack`, else $SHOPSTREAM_STACK, else `dev`. The dbt task group is rendered by astronomer-cosmos from
the dbt manifest (`shopstream airflow` writes it with `dbt parse`; $SHOPSTREAM_DBT_MANIFEST points elsewhere), so
parsing this file needs no database. Without a manifest (a fresh checkout) the DAG still imports, with one
`dbt_build` task that runs `dbt build` as `shopstream transform` does, until a manifest renders the full group.

Knobs (environment of the DAG processor): SHOPSTREAM_DBT_INVOCATION=subprocess runs the virtualenv's `dbt`
executable instead of dbt in the task's own process (`dbt_runner`, the default); SHOPSTREAM_DBT_SELECT renders
only part of the dbt project (comma-separated dbt selectors; tests on several models are kept when any of them is
selected, so select a closed part); SHOPSTREAM_DEMO_SCALE is the scale of demo data generated into an empty local
source (default 0.1).
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Variable, task
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestIndirectSelection

from pipeline import orchestrate
from pipeline.naming import SOURCE_TABLES

log = logging.getLogger(__name__)

DAG_ID = "shopstream_daily"
# The dbt project next to this DAG folder, unless the deployment puts it elsewhere.
DBT_PROJECT_DIR = Path(os.environ.get("SHOPSTREAM_DBT_PROJECT_DIR") or Path(__file__).resolve().parents[1] / "dbt")
DEMO_SCALE = float(os.environ.get("SHOPSTREAM_DEMO_SCALE", "0.1"))


def current_stack() -> str:
    """The stack this run works on (read when a task runs, so changing the Variable needs no DAG reload)."""
    return Variable.get(orchestrate.STACK_VARIABLE, default=orchestrate.default_stack())


def logical_date(ds: str | None) -> str:
    """The run's logical date (YYYY-MM-DD): Airflow passes `ds` to every task of a DAG run."""
    if ds is None:
        raise ValueError("no logical date: this task runs only inside a DAG run")
    return ds


def _export_dbt_env(context: dict) -> None:
    orchestrate.export_dbt_env(current_stack())


def _release_dbt_connections(context: dict, result: object = None) -> None:
    orchestrate.release_dbt_connections()


def _dbt_render_config() -> RenderConfig:
    select = _selectors("SHOPSTREAM_DBT_SELECT")
    return RenderConfig(
        load_method=LoadMode.DBT_MANIFEST,
        select=select,
        # A test on several models runs once all of them are built, not with the first one.
        should_detach_multiple_parents_tests=True,
        **_dbt_executable(),
    )


def _without_manifest(dbt_build: Any) -> Any:
    # Cosmos cannot render without a manifest, and its `dbt ls` fallback outlasts Airflow's DAG import timeout.
    log.warning(
        "dbt manifest %s is missing: running dbt as one `dbt_build` task. "
        "Run `shopstream airflow` (or `dbt parse`) to get one task per model.",
        orchestrate.dbt_manifest_path(),
    )
    return dbt_build()


def _selectors(variable: str) -> list[str]:
    return [selector.strip() for selector in os.environ.get(variable, "").split(",") if selector.strip()]


def _dbt_invocation() -> InvocationMode:
    """dbt in the task's own process (default: no second interpreter start per model) or as a subprocess."""
    return InvocationMode(os.environ.get("SHOPSTREAM_DBT_INVOCATION", InvocationMode.DBT_RUNNER.value))


def _dbt_executable() -> dict[str, str]:
    # Cosmos refuses an explicit executable with the in-process runner; a subprocess uses the virtualenv's dbt.
    if _dbt_invocation() == InvocationMode.SUBPROCESS:
        return {"dbt_executable_path": str(orchestrate.dbt_executable())}
    return {}


def _record_failure(context: dict) -> None:
    """The run history gets the failure too (once the task gave up retrying), so Operations shows it."""
    dag_run, task_instance = context.get("dag_run"), context.get("task_instance")
    error = f"{getattr(task_instance, 'task_id', 'a task')} failed: {context.get('exception')}"
    orchestrate.record_dag_run(current_stack(), DAG_ID, getattr(dag_run, "start_date", None), error)


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
    tags=["shopstream", "elt", "dbt"],
    doc_md=__doc__,
) as dag:

    @task
    def ensure_source() -> dict:
        """Start the stack's source PostgreSQL (embedded locally) and generate demo data if it is empty."""
        return orchestrate.ensure_source(current_stack(), scale=DEMO_SCALE)

    @task
    def extract(table: str, ds: str | None = None) -> dict:
        """Snapshot one source table into the lake partition of the logical date."""
        return orchestrate.extract_table(current_stack(), logical_date(ds), table)

    @task
    def publish_manifest(ds: str | None = None) -> str:
        """Mark the date's extraction finished (the run manifest) once every table is in the lake."""
        return orchestrate.publish_manifest(current_stack(), logical_date(ds))

    @task(pool=orchestrate.WAREHOUSE_POOL)
    def load(table: str, ds: str | None = None) -> dict:
        """Load one table's partition of the logical date into the warehouse's RAW schema."""
        return orchestrate.load_table(current_stack(), logical_date(ds), table)

    @task(pool=orchestrate.WAREHOUSE_POOL)
    def dbt_docs() -> str:
        """Generate the dbt documentation site (in the stack's folder)."""
        return orchestrate.generate_docs(current_stack())

    @task(pool=orchestrate.WAREHOUSE_POOL)
    def churn_predictions() -> dict:
        """Train or load the churn model, write MARTS.mart_churn_predictions (too little data: logged, not failed)."""
        from pipeline.predict.churn import predict_stack

        return predict_stack(current_stack())

    @task(pool=orchestrate.WAREHOUSE_POOL)
    def summary(ds: str | None = None, dag_run=None) -> dict:
        """Log rows per layer (and record the run in the run history); fails when a mart came out empty."""
        result = orchestrate.summarize(current_stack(), logical_date(ds))
        orchestrate.record_dag_run(current_stack(), DAG_ID, getattr(dag_run, "start_date", None))
        log.info("ShopStream %s for %s: marts %s", result["stack"], result["extract_date"], result["mart_rows"])
        return result

    @task(pool=orchestrate.WAREHOUSE_POOL)
    def dbt_build() -> str:
        """`dbt build` of the whole project in one task (used until a dbt manifest exists)."""
        return orchestrate.build_dbt(current_stack())

    dbt = (
        DbtTaskGroup(
            group_id="dbt",
            project_config=ProjectConfig(
                dbt_project_path=DBT_PROJECT_DIR,
                manifest_path=orchestrate.dbt_manifest_path(),
                install_dbt_deps=False,
            ),
            profile_config=ProfileConfig(
                profile_name="shopstream",
                target_name=orchestrate.dbt_target(orchestrate.default_stack()),
                profiles_yml_filepath=DBT_PROJECT_DIR / "profiles.yml",
            ),
            execution_config=ExecutionConfig(
                execution_mode=ExecutionMode.LOCAL,
                invocation_mode=_dbt_invocation(),
                # A model's test task runs only tests whose models are all built; the others are detached (below).
                test_indirect_selection=TestIndirectSelection.CAUTIOUS,
                **_dbt_executable(),
            ),
            render_config=_dbt_render_config(),
            operator_args={
                "pool": orchestrate.WAREHOUSE_POOL,
                "pre_execute": _export_dbt_env,
                "post_execute": _release_dbt_connections,
            },
        )
        if orchestrate.dbt_manifest_path().exists()
        else _without_manifest(dbt_build)
    )

    source_ready = ensure_source()
    manifest = publish_manifest()
    for table in SOURCE_TABLES:
        extracted = extract.override(task_id=f"extract_{table}")(table)
        loaded = load.override(task_id=f"load_{table}")(table)
        source_ready >> extracted >> manifest >> loaded >> dbt
    dbt >> dbt_docs() >> summary()
    dbt >> churn_predictions()
