"""The stack's configuration (`pulumi config set shopstream:KEY VALUE`), read and checked in one place."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import pulumi

from pipeline.errors import ConfigError
from pipeline.naming import PROJECT

# The org prefix ends up in the bucket name: lower-case, digits and hyphens, short enough for S3's 63 characters.
_ORG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,31}[a-z0-9])?$")
DEFAULT_CREDIT_QUOTA = 5


@dataclass(frozen=True)
class StackConfig:
    org: str
    owner: str
    credit_quota: int
    snowflake_account: str
    snowflake_user: str | None
    postgres: PostgresServer | None


@dataclass(frozen=True)
class PostgresServer:
    """Where the stack's PostgreSQL database lives; the provider reaches it with the same settings."""

    host: str
    port: int
    sslmode: str


def load_config(stack: str) -> StackConfig:
    config = pulumi.Config(PROJECT)
    org = config.get("org") or PROJECT
    if not _ORG_PATTERN.match(org):
        raise ConfigError(f"shopstream:org {org!r} must be 1-33 lower-case letters, digits or hyphens")
    credit_quota = config.get_int("creditQuota") or DEFAULT_CREDIT_QUOTA
    if credit_quota <= 0:
        raise ConfigError(f"shopstream:creditQuota must be a positive number of credits, not {credit_quota}")
    return StackConfig(
        org=org,
        owner=config.get("owner") or stack,
        credit_quota=credit_quota,
        snowflake_account=_snowflake_account(),
        snowflake_user=config.get("snowflakeUser"),
        postgres=_postgres_server() if config.get_bool("postgres") else None,
    )


def _snowflake_account() -> str:
    """The account identifier (ORG-ACCOUNT) the pipeline connects to: the provider's own settings, config or env."""
    provider = pulumi.Config("snowflake")
    organization = provider.get("organizationName") or os.environ.get("SNOWFLAKE_ORGANIZATION_NAME")
    account = provider.get("accountName") or os.environ.get("SNOWFLAKE_ACCOUNT_NAME")
    if not (organization and account):
        raise ConfigError(
            "Snowflake account unknown: `pulumi config set snowflake:organizationName ORG` and "
            "`pulumi config set snowflake:accountName ACCOUNT` (or export SNOWFLAKE_ORGANIZATION_NAME/ACCOUNT_NAME)"
        )
    return f"{organization}-{account}"


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
