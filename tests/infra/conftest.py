"""Stacks declared once per test session: `alice` (with the optional PostgreSQL source and a grader role) and `bob`
(without) in cohort fall2026, and a second `alice` in cohort spring2027 in the same accounts."""

import pytest

from tests.helpers.infra import stack_config
from tests.infra.program import ProgramRun, run_program


@pytest.fixture(autouse=True, scope="session")
def _no_password_in_environment():
    """The program refuses SNOWFLAKE_PASSWORD in its environment (it would be copied into the state)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("SNOWFLAKE_PASSWORD", raising=False)
        yield


@pytest.fixture(scope="session")
def alice() -> ProgramRun:
    return run_program(
        "alice",
        {
            **stack_config(owner="alice", snowflakeUser="ALICE_SSO", graderRole="FALL2026_GRADER", postgres="true"),
            "postgresql:host": "db.example.edu",
        },
    )


@pytest.fixture(scope="session")
def bob() -> ProgramRun:
    return run_program("bob", stack_config(creditQuota="2"))


@pytest.fixture(scope="session")
def alice_next_term() -> ProgramRun:
    return run_program("alice", stack_config("spring2027", postgres="true") | {"postgresql:host": "db.example.edu"})


@pytest.fixture(scope="session")
def alice_preview() -> ProgramRun:
    """alice as a first `pulumi preview` declares it: nothing exists, computed values are unknown."""
    return run_program(
        "alice",
        {**stack_config(graderRole="FALL2026_GRADER", postgres="true"), "postgresql:host": "db.example.edu"},
        preview=True,
    )
