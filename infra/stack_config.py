"""The stack's configuration (`pulumi config set shopstream:KEY VALUE`), read and checked in one place.

Every key is documented with an example in Pulumi.dev.yaml. A bad value stops the program with one line naming
the key, before anything is declared.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass

import pulumi

from pipeline.errors import ConfigError, ShopstreamError
from pipeline.naming import PROJECT, validate_cohort

DEFAULT_CREDIT_QUOTA = 5
DEFAULT_BUDGET_USD = 10
MIN_RSA_BITS = 2048
_EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SNOWFLAKE_ROLE_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,254}$")


@dataclass(frozen=True)
class SnowflakeLogin:
    """How Pulumi's Snowflake providers sign in. The private key is read by the provider plugin from
    SNOWFLAKE_PRIVATE_KEY at run time, so it never becomes a resource input and never enters the state."""

    organization: str
    account: str
    user: str

    @property
    def account_identifier(self) -> str:
        return f"{self.organization}-{self.account}"


@dataclass(frozen=True)
class PostgresServer:
    """Where the stack's PostgreSQL database lives; the provider reaches it with the same settings."""

    host: str
    port: int
    sslmode: str


@dataclass(frozen=True)
class StackConfig:
    cohort: str
    owner: str
    owner_email: str
    credit_quota: int
    budget_usd: int
    aws_region: str
    student_public_key: str
    snowflake: SnowflakeLogin
    snowflake_user: str | None  # an existing user that also receives the student role (e.g. an SSO login)
    postgres: PostgresServer | None

    @property
    def snowflake_account(self) -> str:
        return self.snowflake.account_identifier


def load_config(stack: str) -> StackConfig:
    config = pulumi.Config(PROJECT)
    if config.get("org"):
        raise ConfigError("shopstream:org was replaced by shopstream:cohort: `pulumi config rm shopstream:org`")
    return StackConfig(
        cohort=_cohort(config.get("cohort")),
        owner=config.get("owner") or stack,
        owner_email=_owner_email(config.get("ownerEmail")),
        credit_quota=positive_int(config, "creditQuota", DEFAULT_CREDIT_QUOTA, "credits per month"),
        budget_usd=positive_int(config, "budgetUsd", DEFAULT_BUDGET_USD, "US dollars per month"),
        aws_region=aws_region(),
        student_public_key=rsa_public_key_body(config.get("studentPublicKey")),
        snowflake=snowflake_login(),
        snowflake_user=config.get("snowflakeUser"),
        postgres=_postgres_server() if config.get_bool("postgres") else None,
    )


def _cohort(value: str | None) -> str:
    if not value:
        raise ConfigError(
            "shopstream:cohort is not set: `pulumi config set shopstream:cohort fall2026` (the course run)"
        )
    try:
        return validate_cohort(value)
    except ShopstreamError as exc:
        raise ConfigError(f"shopstream:cohort: {exc}") from None


def _owner_email(value: str | None) -> str:
    if not value or not _EMAIL_PATTERN.match(value):
        raise ConfigError(
            f"shopstream:ownerEmail {'is not set' if not value else 'is not an e-mail address'}: "
            "budget alerts go to it (`pulumi config set shopstream:ownerEmail alice@example.edu`)"
        )
    return value


def positive_int(config: pulumi.Config, key: str, default: int, unit: str) -> int:
    """A positive whole number; 0 or a negative value is refused rather than silently replaced by the default."""
    raw = config.get(key)
    if raw is None:
        return default
    if not raw.strip().isdigit() or int(raw) <= 0:
        raise ConfigError(f"shopstream:{key} must be a positive whole number of {unit}, not {raw!r}")
    return int(raw)


def rsa_public_key_body(value: str | None) -> str:
    """The one-line base64 body Snowflake wants (no PEM header/trailer), from a PEM or one-line RSA public key.

    Only a public key is accepted: a private key pasted by mistake is refused and never echoed.
    """
    if not value:
        raise ConfigError(
            "shopstream:studentPublicKey is not set: the student's RSA public key for Snowflake key-pair sign-in "
            '(`pulumi config set shopstream:studentPublicKey -- "$(cat rsa_key.pub)"`)'
        )
    if "PRIVATE KEY" in value:
        raise ConfigError("shopstream:studentPublicKey holds a PRIVATE key: set the public key, keep the private one")
    body = "".join(line.strip() for line in value.strip().splitlines() if not line.startswith("-----"))
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    try:
        key = load_der_public_key(base64.b64decode(body, validate=True))
    except (ValueError, binascii.Error):
        raise ConfigError("shopstream:studentPublicKey is not a PEM or base64 RSA public key") from None
    if not isinstance(key, RSAPublicKey) or key.key_size < MIN_RSA_BITS:
        raise ConfigError(f"shopstream:studentPublicKey must be an RSA key of at least {MIN_RSA_BITS} bits")
    return body


def grader_role(value: str | None) -> str | None:
    """The cohort's grader role (`shopstream:graderRole`), checked: it ends up in GRANT statements."""
    if value and not _SNOWFLAKE_ROLE_PATTERN.match(value):
        raise ConfigError(f"shopstream:graderRole {value!r} is not a plain Snowflake role name")
    return value.upper() if value else None


def aws_region() -> str:
    """The region of the stack's explicit AWS provider (explicit providers do not read `aws:region` themselves)."""
    region = pulumi.Config("aws").get("region") or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise ConfigError("AWS region unknown: `pulumi config set aws:region eu-west-1` (or export AWS_REGION)")
    return region


def snowflake_login() -> SnowflakeLogin:
    """The account identifier (ORG-ACCOUNT) and the admin login: the provider's own settings, config or env."""
    provider = pulumi.Config("snowflake")
    organization = provider.get("organizationName") or os.environ.get("SNOWFLAKE_ORGANIZATION_NAME")
    account = provider.get("accountName") or os.environ.get("SNOWFLAKE_ACCOUNT_NAME")
    if not (organization and account):
        raise ConfigError(
            "Snowflake account unknown: `pulumi config set snowflake:organizationName ORG` and "
            "`pulumi config set snowflake:accountName ACCOUNT` (or export SNOWFLAKE_ORGANIZATION_NAME/ACCOUNT_NAME)"
        )
    user = provider.get("user") or os.environ.get("SNOWFLAKE_USER")
    if not user:
        raise ConfigError(
            "Snowflake login unknown: `pulumi config set snowflake:user INSTRUCTOR` (or export SNOWFLAKE_USER), "
            "with its private key in SNOWFLAKE_PRIVATE_KEY"
        )
    # The Snowflake SDK copies SNOWFLAKE_PASSWORD into every provider's inputs, i.e. into the state.
    if os.environ.get("SNOWFLAKE_PASSWORD"):
        raise ConfigError(
            "SNOWFLAKE_PASSWORD is set: unset it for `pulumi up` (the stack signs in with a key pair, "
            "SNOWFLAKE_PRIVATE_KEY, and a password would be copied into the state)"
        )
    return SnowflakeLogin(organization=organization, account=account, user=user)


def _postgres_server() -> PostgresServer:
    provider = pulumi.Config("postgresql")
    host = provider.get("host") or os.environ.get("PGHOST")
    if not host:
        raise ConfigError(
            "shopstream:postgres is on but the server is unknown: `pulumi config set postgresql:host HOST` (or PGHOST)"
        )
    port = provider.get_int("port") or int(os.environ.get("PGPORT", "5432"))
    sslmode = provider.get("sslmode") or os.environ.get("PGSSLMODE") or "require"
    return PostgresServer(host=host, port=port, sslmode=sslmode)
