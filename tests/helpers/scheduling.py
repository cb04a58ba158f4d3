"""How `pytest -n auto --dist loadscope` (the Makefile's PYTEST_PARALLEL) shares the tests among its workers.

xdist's loadscope sends each test module whole to one worker, so a module-scoped fixture is built once. Session
fixtures, though, are built once per worker: two workers that both run grading tests would each build the
students' stacks and their answer keys. The folders below hold every user of such a costly session fixture, so
each goes whole to one worker; every other module is still its own unit.
"""

from __future__ import annotations

from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling

# Folder → the costly session fixtures (tests/helpers/) its modules share: built once, on the worker that runs the
# folder. tests/test_scheduling.py checks that no module outside the folder uses them.
SHARED_SESSION_FIXTURES = {
    "tests/grade/": ("alice_key", "bob_key"),  # and the students' stacks `alice` and `bob` they are built from
    "tests/airflow/": ("migrated_airflow", "airflow_env", "dbt_manifest"),
    "tests/dashboard/": ("marts_stack",),
    "tests/predict/": ("churn_stack",),
}


class SharedFixtureScheduling(LoadScopeScheduling):
    """loadscope, with each folder of SHARED_SESSION_FIXTURES as one unit of work."""

    def _split_scope(self, nodeid: str) -> str:
        for folder in SHARED_SESSION_FIXTURES:
            if nodeid.startswith(folder):
                return folder
        return super()._split_scope(nodeid)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> LoadScopeScheduling | None:
    if config.getoption("dist") != "loadscope":
        return None  # another mode asked for explicitly: xdist's own
    return SharedFixtureScheduling(config, log)
