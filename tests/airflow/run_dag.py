"""Run the ShopStream DAG with `dag.test()`, once per argument, and print each run's outcome as a JSON line.

    python tests/airflow/run_dag.py 2026-11-24                           # one run for that logical date
    python tests/airflow/run_dag.py 2026-11-24 2026-11-25:/tmp/not-a-dir  # then a run with SHOPSTREAM_LAKE_URI set

Run as a subprocess by the end-to-end test, so Airflow's configuration (AIRFLOW_HOME, read at import) comes from
the environment the test built. Several runs share one process, so Airflow is imported and the DAG parsed once;
each task reads the stack's settings from the environment when it runs, so a run's lake override takes effect
from that run on. Retries are turned off: a failing task must fail the run now, not in 5 minutes.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime

from airflow.dag_processing.dagbag import DagBag

from pipeline import orchestrate
from pipeline.settings import ENV_LAKE_URI


def main(runs: list[str]) -> None:
    bag = DagBag(dag_folder=str(orchestrate.DAGS_FOLDER))
    if bag.import_errors:
        raise SystemExit(f"import errors: {bag.import_errors}")
    dag = bag.dags["shopstream_daily"]
    for task in dag.tasks:
        task.retries = 0
    for spec in runs:
        logical_date, _, lake_uri = spec.partition(":")
        if lake_uri:
            os.environ[ENV_LAKE_URI] = lake_uri
        run = dag.test(logical_date=datetime.fromisoformat(logical_date).replace(tzinfo=UTC))
        states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
        print(json.dumps({"logical_date": logical_date, "state": str(run.state), "tasks": states}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
