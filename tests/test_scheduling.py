"""The xdist scheduling of the suite (tests/helpers/scheduling.py): each costly session fixture is used only inside
the folder that goes whole to one worker, else a second worker would build it again."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

from tests.helpers.scheduling import LONGEST_FIRST, SHARED_SESSION_FIXTURES, SharedFixtureScheduling

REPO = Path(__file__).resolve().parents[1]


def fixture_users() -> dict[str, set[str]]:
    """Fixture name → the test modules (repository paths) whose functions take it as a parameter."""
    users: dict[str, set[str]] = {}
    for module in sorted((REPO / "tests").rglob("test_*.py")):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for argument in node.args.args:
                    users.setdefault(argument.arg, set()).add(module.relative_to(REPO).as_posix())
    return users


def test_each_shared_session_fixture_is_used_only_in_its_folder() -> None:
    users = fixture_users()
    for folder, fixtures in SHARED_SESSION_FIXTURES.items():
        for fixture in fixtures:
            assert users.get(fixture), f"{fixture} is used nowhere: drop it from SHARED_SESSION_FIXTURES"
            outside = sorted(module for module in users[fixture] if not module.startswith(folder))
            assert outside == [], f"{fixture} is shared with {folder} but also used in {outside}"


def test_each_longest_unit_is_a_unit_of_the_suite() -> None:
    for unit in LONGEST_FIRST:
        if unit.endswith("/"):
            assert unit in SHARED_SESSION_FIXTURES, f"{unit}: a folder is one unit only in SHARED_SESSION_FIXTURES"
        else:
            assert (REPO / unit).is_file() and Path(unit).name.startswith("test_"), f"{unit}: no such test module"
            assert not unit.startswith(tuple(SHARED_SESSION_FIXTURES)), f"{unit} is inside a folder's unit"


class RecordingWorker:
    """Stands in for xdist's WorkerController, which needs a live worker process: only what the scheduler calls."""

    def __init__(self, name: str, collection: list[str]) -> None:
        self.gateway = SimpleNamespace(id=name)
        self.collection = collection
        self.shutting_down = False
        self.received: list[str] = []

    def send_runtest_some(self, indices: list[int]) -> None:
        self.received += [self.collection[index] for index in indices]

    def shutdown(self) -> None:
        self.shutting_down = True


def test_units_start_longest_first_whatever_their_number_of_tests(pytestconfig, monkeypatch) -> None:
    many_short = [f"tests/test_naming.py::test_{n}" for n in range(5)]
    longest = [f"{LONGEST_FIRST[0]}test_a.py::test_a", f"{LONGEST_FIRST[1]}test_b.py::test_b"]
    third = f"{LONGEST_FIRST[2]}::test_c" if LONGEST_FIRST[2].endswith(".py") else f"{LONGEST_FIRST[2]}x.py::test_c"
    collection = [*many_short, *reversed(longest), third]
    monkeypatch.setattr(pytestconfig.option, "tx", ["2*popen"], raising=False)
    monkeypatch.setattr(pytestconfig.option, "loadscopereorder", True, raising=False)  # xdist's default: by count
    scheduler = SharedFixtureScheduling(pytestconfig)
    workers = [RecordingWorker("gw0", collection), RecordingWorker("gw1", collection)]
    for worker in workers:
        scheduler.add_node(worker)  # type: ignore[arg-type]
        scheduler.add_node_collection(worker, collection)  # type: ignore[arg-type]
    scheduler.schedule()
    # Each worker starts on one of the two longest units and, each being one test, takes another unit at once (xdist
    # keeps two units ahead on a worker): the third longest, then the module with the most tests.
    assert [worker.received for worker in workers] == [[longest[0], third], [longest[1], *many_short]]
