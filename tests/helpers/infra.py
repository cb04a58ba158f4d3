"""Stack configuration the infra tests share: the cohort, the Snowflake account, a student's public key."""

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

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
