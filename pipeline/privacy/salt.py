"""The stack's privacy salt: the secret behind every pseudonymised key and every audit fingerprint.

It never lives in the repository. A stack reads it from $SHOPSTREAM_PRIVACY_SALT (a cloud stack: the Pulumi secret
`shopstream:privacySalt`, exported by the operator or the orchestrator), else from the stack's secret file
`<home>/secrets/privacy_salt` (0600). A local stack creates that file on first use; a cloud stack without a salt is
an error, because a new random salt would silently change every person key in the marts.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.settings import ENV_PRIVACY_SALT as ENV_SALT
from pipeline.settings import DuckDBWarehouse, Environment, Settings

MIN_SALT_LENGTH = 16


def salt_file(settings: Settings) -> Path:
    return settings.home / "secrets" / "privacy_salt"


def privacy_salt(settings: Settings) -> str:
    """The stack's salt (see the module docstring); creates a local stack's salt file on first use."""
    if value := Environment.read().privacy_salt:
        if len(value) < MIN_SALT_LENGTH:
            raise ConfigError(f"{ENV_SALT} is too short: use at least {MIN_SALT_LENGTH} random characters")
        return value
    path = salt_file(settings)
    if path.exists():
        return path.read_text().strip()
    if not isinstance(settings.warehouse, DuckDBWarehouse):
        raise ConfigError(
            f"stack {settings.stack!r} has no privacy salt: export {ENV_SALT} from the stack's secret config "
            "(`pulumi config get shopstream:privacySalt`)"
        )
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = secrets.token_hex(32)
    try:  # O_EXCL: two commands starting at once must not write two different salts
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def normalise_email(email: str) -> str:
    """The form every layer compares emails in (staging trims and lower-cases them the same way)."""
    return email.strip().lower()


def person_key(salt: str, email: str) -> str:
    """The marts' person key: hex SHA-256 of salt, '|' and the normalised email (the dbt macro `person_key`)."""
    return hashlib.sha256(f"{salt}|{normalise_email(email)}".encode()).hexdigest()


def fingerprint(salt: str, kind: str, value: str) -> str:
    """A keyed hash of a request's subject for the audit register: proves a match, reveals nothing."""
    return hmac.new(salt.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
