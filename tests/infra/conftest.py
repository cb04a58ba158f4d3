"""Two stacks, `alice` (with the optional PostgreSQL source) and `bob` (without), declared once per test session."""

import pytest

from tests.infra.program import ProgramRun, run_program

SNOWFLAKE_ACCOUNT = {"snowflake:organizationName": "SCHOOL", "snowflake:accountName": "DATA101"}


@pytest.fixture(scope="session")
def alice() -> ProgramRun:
    return run_program(
        "alice",
        {
            **SNOWFLAKE_ACCOUNT,
            "shopstream:owner": "alice@example.edu",
            "shopstream:snowflakeUser": "ALICE",
            "shopstream:postgres": "true",
            "postgresql:host": "db.example.edu",
        },
    )


@pytest.fixture(scope="session")
def bob() -> ProgramRun:
    return run_program("bob", {**SNOWFLAKE_ACCOUNT, "shopstream:creditQuota": "2"})
