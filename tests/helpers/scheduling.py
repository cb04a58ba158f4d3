"""How `pytest -n auto --dist loadscope` (the Makefile's PYTEST_PARALLEL) shares the tests among its workers.

xdist's loadscope sends each test module whole to one worker, so a module-scoped fixture is built once. Session
fixtures, though, are built once per worker: two workers that both run grading tests would each build the
students' stacks and their answer keys. The folders below hold every user of such a costly session fixture, so
each goes whole to one worker; every other module is still its own unit.

Units start longest first (LONGEST_FIRST, then xdist's order: most tests first). The suite's wall time is that of
its busier worker: a long unit started last leaves the other worker idle for as long, while short units at the end
even the two out.
"""

from __future__ import annotations

from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling
from xdist.workermanage import WorkerController

# Folder → the costly session fixtures (tests/helpers/) its modules share: built once, on the worker that runs the
# folder. tests/test_scheduling.py checks that no module outside the folder uses them.
SHARED_SESSION_FIXTURES = {
    "tests/grade/": ("alice_key", "bob_key"),  # and the students' stacks `alice` and `bob` they are built from
    "tests/airflow/": ("migrated_airflow", "airflow_env", "dbt_manifest"),
    "tests/dashboard/": ("marts_stack",),
    "tests/predict/": ("churn_stack",),
}


# The units that take longest (a minute down to half a minute of one worker each), longest first. Only the order
# of the work depends on it: a stale entry costs time, never a test. tests/test_scheduling.py checks each names a
# unit of the suite.
LONGEST_FIRST = (
    "tests/grade/",
    "tests/airflow/",
    "tests/dbt/test_dbt_project.py",
    "tests/dashboard/",
    "tests/bench/test_harness.py",
    "tests/pipeline/test_bad_input.py",
    "tests/privacy/test_forget.py",
    "tests/predict/",
    "tests/stream/test_stream.py",
)


class SharedFixtureScheduling(LoadScopeScheduling):
    """loadscope, with each folder of SHARED_SESSION_FIXTURES as one unit of work, the longest units first."""

    def _assign_work_unit(self, node: WorkerController) -> None:
        for scope in reversed(LONGEST_FIRST):
            if scope in self.workqueue:
                self.workqueue.move_to_end(scope, last=False)
        super()._assign_work_unit(node)

    def _split_scope(self, nodeid: str) -> str:
        for folder in SHARED_SESSION_FIXTURES:
            if nodeid.startswith(folder):
                return folder
        return super()._split_scope(nodeid)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> LoadScopeScheduling | None:
    if config.getoption("dist") != "loadscope":
        return None  # another mode asked for explicitly: xdist's own
    return SharedFixtureScheduling(config, log)
