"""Airflow's side of the road, in three modules; the DAG files in `dags/` only wire them.

    tasks.py          what each task calls: one function per task, taking the run's stack explicitly
    dbt_group.py      how astronomer-cosmos renders the dbt project, and the run's stack for each dbt task
    local_airflow.py  starting Airflow on this machine for a stack (`shopstream airflow`)

A run's stack is its `stack` param, else the Airflow Variable `shopstream_stack`, else $SHOPSTREAM_STACK, else
`dev`: decided when each task runs (dbt tasks included), never when the DAG file is parsed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipeline.naming import DEFAULT_STACK
from pipeline.settings import ENV_DBT_MANIFEST, REPO_ROOT, Environment

REPO = REPO_ROOT
DAGS_FOLDER = REPO / "dags"
DAG_ID = "shopstream_daily"
STACK_PARAM = "stack"  # the DAG param naming a run's stack (empty: the Variable below)
STACK_VARIABLE = "shopstream_stack"  # the Airflow Variable naming the stack the DAGs run on
WAREHOUSE_POOL = "shopstream_warehouse"  # Airflow pool of the tasks that write the warehouse

__all__ = [
    "DAGS_FOLDER",
    "DAG_ID",
    "ENV_DBT_MANIFEST",
    "REPO",
    "STACK_PARAM",
    "STACK_VARIABLE",
    "WAREHOUSE_POOL",
    "dbt_manifest_path",
    "default_stack",
    "stack_for_run",
]


def default_stack() -> str:
    """The stack when neither the run nor the Variable names one: $SHOPSTREAM_STACK, else dev."""
    return Environment.read().stack or DEFAULT_STACK


def dbt_manifest_path() -> Path:
    """Where the DAG reads the dbt manifest: $SHOPSTREAM_DBT_MANIFEST, else dbt/target/manifest.json."""
    from pipeline.settings import DBT_PROJECT_DIR

    return Environment.read().dbt_manifest or DBT_PROJECT_DIR / "target" / "manifest.json"


def stack_for_run(params: Mapping[str, Any] | None) -> str:
    """The run's stack: its `stack` param, else the Airflow Variable, else `default_stack()`."""
    chosen = str((params or {}).get(STACK_PARAM) or "").strip()
    if chosen:
        return chosen
    from airflow.sdk import Variable

    return Variable.get(STACK_VARIABLE, default=default_stack())
