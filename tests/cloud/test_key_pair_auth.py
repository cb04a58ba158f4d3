"""Key-pair sign-in is the default for every programmatic Snowflake login: the pipeline's connections and the dbt
profile use SNOWFLAKE_PRIVATE_KEY_PATH, and a password in the same environment is not used."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from dbt.config.renderer import ProfileRenderer
from dbt_common.context import set_invocation_context

from pipeline.errors import ConfigError
from pipeline.settings import settings_from_outputs
from pipeline.warehouse.snowflake import connection_options
from tests.helpers.cloud import cloud_outputs

PROFILES = Path(__file__).resolve().parents[2] / "dbt" / "profiles.yml"


@pytest.fixture
def private_key(tmp_path: Path) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "rsa_key.p8"
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    path.chmod(0o600)
    return path


@pytest.fixture
def login(monkeypatch: pytest.MonkeyPatch, private_key: Path) -> Path:
    for name in ("SNOWFLAKE_AUTHENTICATOR", "SNOWFLAKE_HOST", "SNOWFLAKE_PORT", "SNOWFLAKE_PROTOCOL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SNOWFLAKE_USER", "SHOPSTREAM_FALL2026_ALICE_USER")
    monkeypatch.setenv("SNOWFLAKE_PRIVATE_KEY_PATH", str(private_key))
    monkeypatch.setenv("SNOWFLAKE_PASSWORD", "an-old-password")
    return private_key


def test_connections_sign_in_with_the_key_pair_even_when_a_password_is_set(login: Path) -> None:
    settings = settings_from_outputs("alice", cloud_outputs("alice"), "test outputs")
    options = connection_options(settings, "transform")
    assert options["private_key_file"] == str(login)
    assert "password" not in options
    assert options["user"] == "SHOPSTREAM_FALL2026_ALICE_USER"


def test_a_key_path_that_names_no_file_is_one_clear_line(login: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNOWFLAKE_PRIVATE_KEY_PATH", str(login.parent / "missing.p8"))
    settings = settings_from_outputs("alice", cloud_outputs("alice"), "test outputs")
    with pytest.raises(ConfigError, match=r"SNOWFLAKE_PRIVATE_KEY_PATH names no file: .*missing\.p8$"):
        connection_options(settings)


def render_snowflake_profile() -> dict:
    """The profile's snowflake target as dbt itself renders it from the current environment."""
    set_invocation_context(dict(os.environ))
    profile = yaml.safe_load(PROFILES.read_text())["shopstream"]["outputs"]["snowflake"]
    return ProfileRenderer({}).render_data(profile)


def test_dbt_profile_uses_the_key_pair_and_ignores_a_password(login: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rendered = render_snowflake_profile()
    assert (rendered["private_key_path"], rendered["password"]) == (str(login), "")
    monkeypatch.delenv("SNOWFLAKE_PRIVATE_KEY_PATH")
    assert render_snowflake_profile()["password"] == "an-old-password"  # where passwords are still allowed
