"""Connections to the stack's Snowflake account.

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
from typing import TYPE_CHECKING, Any, Literal

from pipeline.errors import ConfigError, ShopstreamError
from pipeline.settings import Settings, SnowflakeWarehouse

if TYPE_CHECKING:
    from snowflake.connector import SnowflakeConnection

Purpose = Literal["loading", "transform", "bi"]

ENV_USER = "SNOWFLAKE_USER"
ENV_PASSWORD = "SNOWFLAKE_PASSWORD"
ENV_PRIVATE_KEY_PATH = "SNOWFLAKE_PRIVATE_KEY_PATH"
ENV_PRIVATE_KEY_PASSPHRASE = "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE"
ENV_AUTHENTICATOR = "SNOWFLAKE_AUTHENTICATOR"
ENV_HOST = "SNOWFLAKE_HOST"
ENV_PORT = "SNOWFLAKE_PORT"
ENV_PROTOCOL = "SNOWFLAKE_PROTOCOL"

MISSING_CREDENTIALS = (
    f"Snowflake credentials missing: set {ENV_USER} and {ENV_PRIVATE_KEY_PATH} (key-pair sign-in; "
    f"or {ENV_PASSWORD} where passwords are still allowed) in the environment"
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


def connection_options(settings: Settings, purpose: Purpose = "loading") -> dict:
    """Keyword arguments for `snowflake.connector.connect` (credentials included: never log them)."""
    warehouse = snowflake_warehouse(settings)
    user = os.environ.get(ENV_USER)
    password = os.environ.get(ENV_PASSWORD)
    key_path = os.environ.get(ENV_PRIVATE_KEY_PATH)
    authenticator = os.environ.get(ENV_AUTHENTICATOR)
    if not user or not (password or key_path or authenticator):
        raise ConfigError(MISSING_CREDENTIALS)
    if key_path and not os.path.isfile(os.path.expanduser(key_path)):
        raise ConfigError(f"{ENV_PRIVATE_KEY_PATH} names no file: {key_path}")
    options: dict = {
        "account": warehouse.account,
        "user": user,
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
        if passphrase := os.environ.get(ENV_PRIVATE_KEY_PASSPHRASE):
            options["private_key_file_pwd"] = passphrase
    elif password:
        options["password"] = password
    if authenticator:
        options["authenticator"] = authenticator
    if host := os.environ.get(ENV_HOST):
        options["host"] = host
        # A private endpoint has no Snowflake telemetry service to report to.
        options["session_parameters"]["CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED"] = False
    if port := os.environ.get(ENV_PORT):
        if not port.isdigit():
            raise ConfigError(f"{ENV_PORT}={port!r} is not a TCP port")
        options["port"] = int(port)
    if protocol := os.environ.get(ENV_PROTOCOL):
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


def first_line(exc: BaseException) -> str:
    """The first line of an error, without the connector's multi-line SQL echo."""
    return next(iter(str(exc).strip().splitlines()), type(exc).__name__)
