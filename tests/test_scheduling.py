"""The xdist scheduling of the suite (tests/helpers/scheduling.py): each costly session fixture is used only inside
the folder that goes whole to one worker, else a second worker would build it again."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers.scheduling import SHARED_SESSION_FIXTURES

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
