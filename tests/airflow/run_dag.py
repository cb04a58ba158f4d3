"""Run the ShopStream DAG once with `dag.test()` and print its outcome as JSON (the last line of stdout).

    python tests/airflow/run_dag.py 2026-11-24

Run as a subprocess by the end-to-end test, so Airflow's configuration (AIRFLOW_HOME, read at import) comes from
the environment the test built. Retries are turned off: a failing task must fail the run now, not in 5 minutes.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

from airflow.dag_processing.dagbag import DagBag

from pipeline import orchestrate


def main(logical_date: str) -> None:
    bag = DagBag(dag_folder=str(orchestrate.DAGS_FOLDER))
    if bag.import_errors:
        raise SystemExit(f"import errors: {bag.import_errors}")
    dag = bag.dags["shopstream_daily"]
    for task in dag.tasks:
        task.retries = 0
    run = dag.test(logical_date=datetime.fromisoformat(logical_date).replace(tzinfo=UTC))
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    print(json.dumps({"state": str(run.state), "tasks": states}))


if __name__ == "__main__":
    main(sys.argv[1])
