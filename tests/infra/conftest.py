"""Stacks declared once per test session: `alice` (with the optional PostgreSQL source and a grader role) and `bob`
(without) in cohort fall2026, and a second `alice` in cohort spring2027 in the same accounts."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.infra.program import ProgramRun, run_program

COHORT = "fall2026"
SNOWFLAKE_ACCOUNT = {
    "aws:region": "eu-west-1",
    "snowflake:organizationName": "SCHOOL",
    "snowflake:accountName": "DATA101",
    "snowflake:user": "INSTRUCTOR",
}


def public_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


STUDENT_PUBLIC_KEY = public_key_pem()


def stack_config(cohort: str = COHORT, **shopstream: str) -> dict[str, str]:
    """A complete stack configuration; `shopstream` keys override or add `shopstream:KEY` values."""
    base = {
        "cohort": cohort,
        "ownerEmail": "student@example.edu",
        "studentPublicKey": STUDENT_PUBLIC_KEY,
    }
    return {**SNOWFLAKE_ACCOUNT, **{f"shopstream:{k}": v for k, v in (base | shopstream).items()}}


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
