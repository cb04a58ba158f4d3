"""The cloud warehouse: connections to the stack's Snowflake account, and its `Warehouse` adapter.

Names (account, database, role, warehouses) come from the stack's settings; credentials only from the environment,
so they never reach a file, a log line or an error message:
- SNOWFLAKE_USER with SNOWFLAKE_PRIVATE_KEY_PATH (+ SNOWFLAKE_PRIVATE_KEY_PASSPHRASE): key-pair sign-in, the default
  (a stack's student user has no password; Snowflake is retiring password-only sign-in). It wins over the others;
- or SNOWFLAKE_PASSWORD where password sign-in is still allowed, or SNOWFLAKE_AUTHENTICATOR (e.g. `externalbrowser`);
- SNOWFLAKE_HOST / SNOWFLAKE_PORT / SNOWFLAKE_PROTOCOL point the connector at another endpoint (a local fakesnow
  server in the tests).
A connection always names its database and has short timeouts: a server that answers HTTP 500 would otherwise
keep the connector retrying for minutes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pipeline.errors import ConfigError, ShopstreamError, first_line
from pipeline.settings import (
    ENV_SF_PASSWORD,
    ENV_SF_PORT,
    ENV_SF_PRIVATE_KEY_PATH,
    ENV_SF_USER,
    Environment,
    Settings,
    SnowflakeCredentials,
    SnowflakeWarehouse,
)

if TYPE_CHECKING:
    from snowflake.connector import SnowflakeConnection

Purpose = Literal["loading", "transform", "bi"]

DBT_TARGET = "snowflake"
MISSING_CREDENTIALS = (
    f"Snowflake credentials missing: set {ENV_SF_USER} and {ENV_SF_PRIVATE_KEY_PATH} (key-pair sign-in; "
    f"or {ENV_SF_PASSWORD} where passwords are still allowed) in the environment"
)

LOGIN_TIMEOUT_S = 30
NETWORK_TIMEOUT_S = 60


def snowflake_warehouse(settings: Settings) -> SnowflakeWarehouse:
    if not isinstance(settings.warehouse, SnowflakeWarehouse):
        raise ConfigError(
            f"stack {settings.stack!r} uses the {settings.warehouse.kind} warehouse, not Snowflake; "
            "pass --outputs FILE of a cloud stack"
        )
    return settings.warehouse


def credentials() -> SnowflakeCredentials:
    """Who signs in, from the environment; a one-line error naming the variables when nobody can."""
    found = Environment.read().snowflake
    if not found.complete:
        raise ConfigError(MISSING_CREDENTIALS)
    return found


def connection_options(settings: Settings, purpose: Purpose = "loading") -> dict:
    """Keyword arguments for `snowflake.connector.connect` (credentials included: never log them)."""
    warehouse = snowflake_warehouse(settings)
    found = credentials()
    key_path, password, authenticator = found.private_key_path, found.password, found.authenticator
    if key_path and not os.path.isfile(os.path.expanduser(key_path)):
        raise ConfigError(f"{ENV_SF_PRIVATE_KEY_PATH} names no file: {key_path}")
    options: dict = {
        "account": warehouse.account,
        "user": found.user,
        "database": warehouse.database,
        "role": warehouse.role,
        "warehouse": warehouse.warehouses[purpose],
        "application": "shopstream",
        "login_timeout": LOGIN_TIMEOUT_S,
        "network_timeout": NETWORK_TIMEOUT_S,
        "socket_timeout": NETWORK_TIMEOUT_S,
        "session_parameters": {"QUERY_TAG": f"shopstream:{settings.stack}:{purpose}"},
    }
    if key_path:
        options["private_key_file"] = os.path.expanduser(key_path)
        if passphrase := found.private_key_passphrase:
            options["private_key_file_pwd"] = passphrase
    elif password:
        options["password"] = password
    if authenticator:
        options["authenticator"] = authenticator
    if host := found.host:
        options["host"] = host
        # A private endpoint has no Snowflake telemetry service to report to.
        options["session_parameters"]["CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED"] = False
    if port := found.port:
        if not port.isdigit():
            raise ConfigError(f"{ENV_SF_PORT}={port!r} is not a TCP port")
        options["port"] = int(port)
    if protocol := found.protocol:
        options["protocol"] = protocol
    return options


@contextmanager
def connect(settings: Settings, purpose: Purpose = "loading", **extra: Any) -> Iterator[SnowflakeConnection]:
    """An open connection on the stack's warehouse for `purpose`, closed on exit (`extra`: connector options)."""
    import snowflake.connector  # the cloud extra: imported only when Snowflake is used
    from snowflake.connector.errors import DatabaseError

    options = {**connection_options(settings, purpose), **extra}
    try:
        connection = snowflake.connector.connect(**options)
    except DatabaseError as exc:
        raise ShopstreamError(
            f"cannot connect to Snowflake account {options['account']!r} as {options['user']!r}: {first_line(exc)}"
        ) from None
    try:
        yield connection
    finally:
        connection.close()


@dataclass(frozen=True)
class Snowflake:
    """The `Warehouse` adapter of a cloud stack."""

    settings: Settings
    kind: str = "snowflake"

    @property
    def location(self) -> str:
        warehouse = snowflake_warehouse(self.settings)
        return f"snowflake://{warehouse.account}/{warehouse.database}"

    @property
    def dbt_target(self) -> str:
        return DBT_TARGET

    def check_ready(self) -> None:
        snowflake_warehouse(self.settings)
        credentials()

    def layer_counts(self) -> dict[str, dict[str, int]]:
        return {}  # counting every relation would wake the warehouse (and bill it) for a status line
