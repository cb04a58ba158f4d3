"""The DAG imports on a fresh checkout, where no dbt manifest exists yet (real Airflow DagBag, real Cosmos)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from pipeline import orchestrate
from pipeline.naming import SOURCE_TABLES
from tests.helpers.airflow import QUIET_AIRFLOW

REPO = Path(__file__).resolve().parents[2]

PARSE = """
import sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
print("ERRORS", bag.import_errors, flush=True)
dag = bag.dags["shopstream_daily"]
build = dag.get_task("dbt_build")
print("UPSTREAM", sorted(build.upstream_task_ids))
print("DOWNSTREAM", sorted(build.downstream_task_ids))
"""


def _fresh_checkout(target: Path) -> Path:
    """The tracked files only (as a clone has them): no dbt/target, no manifest, nothing a previous run wrote."""
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z"], capture_output=True, check=True).stdout
    checkout = target / "checkout"
    for name in filter(None, listed.decode().split("\0")):
        if (REPO / name).is_file():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, checkout / name)
    return checkout


def test_the_dag_imports_without_a_dbt_manifest(tmp_path: Path) -> None:
    checkout = _fresh_checkout(tmp_path)
    assert not (checkout / "dbt" / "target" / "manifest.json").exists()
    env = {
        key: value
        for key, value in os.environ.items()
        if key != orchestrate.ENV_DBT_MANIFEST and not key.startswith("AIRFLOW")
    }
    env |= {**QUIET_AIRFLOW, "AIRFLOW_HOME": str(tmp_path / "airflow"), "PYTHONPATH": str(checkout)}
    env["AIRFLOW__COSMOS__CACHE_DIR"] = str(tmp_path / "cosmos")
    result = subprocess.run(
        [sys.executable, "-c", PARSE, str(checkout / "dags")],
        env=env,
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert "ERRORS {}" in result.stdout, result.stdout[-3000:]
    assert result.returncode == 0, result.stderr[-3000:]
    # dbt still runs, as one task after every load and before the docs.
    loads = sorted(f"load_{table}" for table in SOURCE_TABLES)
    assert f"UPSTREAM {loads}" in result.stdout
    downstream = result.stdout.split("DOWNSTREAM")[-1].splitlines()[0]
    assert "'dbt_docs'" in downstream  # and whatever else follows dbt (e.g. churn predictions)
