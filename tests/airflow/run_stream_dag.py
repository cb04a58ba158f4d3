"""Run one stream DAG once with `dag.test()` and print its outcome as JSON (the last line of stdout).

    python tests/airflow/run_stream_dag.py shopstream_stream_load

A subprocess, like `run_dag.py`, so Airflow reads the configuration the test built. Retries off.
"""

from __future__ import annotations

import json
import sys

from airflow.dag_processing.dagbag import DagBag

from pipeline import orchestrate


def main(dag_id: str) -> None:
    bag = DagBag(dag_folder=str(orchestrate.DAGS_FOLDER))
    if bag.import_errors:
        raise SystemExit(f"import errors: {bag.import_errors}")
    dag = bag.dags[dag_id]
    for task in dag.tasks:
        task.retries = 0
    run = dag.test()
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    print(json.dumps({"state": str(run.state), "tasks": states}))


if __name__ == "__main__":
    main(sys.argv[1])
