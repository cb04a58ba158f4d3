"""The dbt part of the daily DAG: how astronomer-cosmos renders the project, and each dbt task's stack per run.

Rendering needs no database: it reads the dbt manifest (`shopstream airflow` writes it with `dbt parse`;
$SHOPSTREAM_DBT_MANIFEST points elsewhere). On a fresh checkout without a manifest the DAG still imports, with one
plain `dbt build` task instead of one task per model.

At run time an interceptor (Cosmos' hook for per-run values) gives each dbt task its run's stack: the profile
target (`local` or `snowflake`) and the profile variables of that stack's warehouse, as the operator's `env`,
which Cosmos hands to dbt for that one invocation. Nothing here touches the process environment.
"""

from __future__ import annotations

import atexit
import dataclasses
import gc
import shutil
import sys
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError
from pipeline.orchestrate import WAREHOUSE_POOL, dbt_manifest_path, stack_for_run
from pipeline.settings import DBT_PROJECT_DIR, ENV_DBT_INVOCATION, Environment

PROFILE = "shopstream"


def dbt_executable() -> Path:
    """The dbt next to this interpreter (the virtualenv's), else the one on PATH."""
    beside = Path(sys.executable).with_name("dbt")
    if beside.exists():
        return beside
    if found := shutil.which("dbt"):
        return Path(found)
    raise ConfigError("dbt is not installed: run `make install-all`")


def can_render() -> bool:
    """True when the manifest is there to render one task per model."""
    return dbt_manifest_path().exists()


def invocation_mode() -> Any:
    """dbt in the task's own process (default: no second interpreter start per model) or as a subprocess."""
    from cosmos.constants import InvocationMode

    chosen = Environment.read().dbt_invocation or InvocationMode.DBT_RUNNER.value
    try:
        return InvocationMode(chosen)
    except ValueError:
        raise ConfigError(f"{ENV_DBT_INVOCATION}={chosen!r}: choose dbt_runner or subprocess") from None


def _executable_args() -> dict[str, str]:
    """Cosmos refuses an explicit executable with the in-process runner; a subprocess uses the virtualenv's dbt."""
    from cosmos.constants import InvocationMode

    if invocation_mode() == InvocationMode.SUBPROCESS:
        return {"dbt_executable_path": str(dbt_executable())}
    return {}


def task_group(selectors: list[str]) -> Any:
    """The Cosmos task group of the dbt project (only `selectors`' part of it when given)."""
    from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, LoadMode, TestBehavior, TestIndirectSelection

    return DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT_DIR, manifest_path=dbt_manifest_path(), install_dbt_deps=False
        ),
        # The target here only serves rendering: `per_run_stack` sets each task's target for its run.
        profile_config=ProfileConfig(
            profile_name=PROFILE, target_name="local", profiles_yml_filepath=DBT_PROJECT_DIR / "profiles.yml"
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.LOCAL,
            invocation_mode=invocation_mode(),
            # A model's task runs only the tests whose models are all built; the others are detached (below).
            test_indirect_selection=TestIndirectSelection.CAUTIOUS,
            **_executable_args(),
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            # One `dbt build` task per model (and snapshot): the model, then its tests, in one dbt invocation. A
            # separate test task would pay dbt's start-up and partial parse a second time for every model.
            test_behavior=TestBehavior.BUILD,
            select=selectors,
            # A test on several models runs once all of them are built, not with the first one.
            should_detach_multiple_parents_tests=True,
            **_executable_args(),
        ),
        operator_args={
            "pool": WAREHOUSE_POOL,
            # dbt's log file at info level, as `shopstream transform` keeps it: debug level (every SQL statement)
            # costs about a third of a small model's time. No JSON artefacts: Cosmos runs each task in a temporary
            # copy of the project and deletes it, manifest.json and run_results.json with it, which dbt would
            # write (the manifest twice) for nothing: about a quarter of a small model's task. The partial-parse
            # file, which Cosmos keeps for the next task, is not JSON and is still written.
            "dbt_cmd_global_flags": ["--log-level-file", "info", "--no-write-json"],
            # Without those files there is no lineage to read: no Airflow asset per model (no DAG schedules on them).
            "emit_datasets": False,
            "interceptors": [per_run_stack],
            "pre_execute": freeze_the_heap,
            "post_execute": after_dbt_task,
        },
    )


def per_run_stack(context: Any, operator: Any) -> None:
    """Before a dbt task builds its command: the run's stack's profile target and variables, for this task only."""
    from pipeline.stack import Stack
    from pipeline.transform import dbt_env

    settings = Stack.open(stack_for_run(context.get("params"))).settings
    variables = dbt_env(settings)
    operator.env = {**(operator.env or {}), **variables}
    operator.profile_config = dataclasses.replace(
        operator.profile_config, target_name=variables["SHOPSTREAM_DBT_TARGET"]
    )


def freeze_the_heap(context: Any) -> None:
    """Before an in-process dbt task: put every object alive so far out of the garbage collector's sight.

    After each in-process dbt command Cosmos runs a full `gc.collect()`, to free the semaphores dbt's adapters hold.
    Scanning the whole heap of Airflow, the DAG and dbt that way costs about 0.6 s per task; with the heap frozen,
    the collection scans only what the dbt command made (its semaphores included). `after_dbt_task` thaws the heap;
    if the task fails before that, the exit does (frozen objects at exit make DuckDB's bindings report leaks).
    """
    atexit.unregister(gc.unfreeze)
    atexit.register(gc.unfreeze)
    gc.freeze()


def after_dbt_task(context: Any, result: object = None) -> None:
    """After an in-process dbt task: the heap back under the garbage collector, and the warehouse released."""
    gc.unfreeze()
    release_connections()


def release_connections() -> None:
    """Let go of the DuckDB file dbt-duckdb keeps open for the whole process, so the next task in the same process
    (`dag.test()`) can open the warehouse (the same release `shopstream transform` does after each dbt command)."""
    from pipeline.transform.runner import release_duckdb

    release_duckdb()
