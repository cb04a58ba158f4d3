"""Settings of a cloud stack from its Pulumi outputs, and environment overrides that mix local and cloud edges."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.settings import (
    SnowflakeWarehouse,
    StackOutputs,
    local_settings,
    resolve_settings,
    settings_from_outputs,
)
from tests.cloud.conftest import POSTGRES_PASSWORD, SECRET_ACCESS_KEY, cloud_outputs

REQUIRED_KEYS = [name for name, field in StackOutputs.model_fields.items() if field.is_required()]


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SHOPSTREAM_HOME", str(tmp_path / "home"))
    for name in ("SHOPSTREAM_PG_DSN", "SHOPSTREAM_LAKE_URI", "SHOPSTREAM_S3_ENDPOINT", "SHOPSTREAM_WAREHOUSE"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "home"


def write_outputs(tmp_path: Path, outputs: dict) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return path


def test_full_outputs_file_gives_cloud_settings(tmp_path: Path) -> None:
    outputs = cloud_outputs("alice")
    settings = resolve_settings("alice", write_outputs(tmp_path, outputs))

    assert settings.origin == f"outputs file {tmp_path / 'outputs.json'}"
    assert settings.lake.uri == "s3://shopstream-alice-lake"
    assert (settings.lake.region, settings.lake.access_key_id) == ("eu-west-1", "AKIAEXAMPLE")
    assert settings.lake.secret_access_key.get_secret_value() == SECRET_ACCESS_KEY
    assert settings.source.dsn.get_secret_value() == outputs["postgres_dsn"]
    warehouse = settings.warehouse
    assert isinstance(warehouse, SnowflakeWarehouse)
    assert (warehouse.account, warehouse.database, warehouse.role) == (
        "xy12345.eu-west-1",
        "SHOPSTREAM_ALICE",
        "SHOPSTREAM_ALICE_STUDENT",
    )
    assert warehouse.warehouses == {
        "loading": "SHOPSTREAM_ALICE_LOADING",
        "transform": "SHOPSTREAM_ALICE_TRANSFORM",
        "bi": "SHOPSTREAM_ALICE_BI",
    }
    assert (warehouse.stage, warehouse.parquet_format) == (
        "SHOPSTREAM_ALICE.RAW.LAKE_STAGE",
        "SHOPSTREAM_ALICE.RAW.PARQUET_FORMAT",
    )


@pytest.mark.parametrize("key", REQUIRED_KEYS)
def test_each_missing_key_is_named(key: str) -> None:
    outputs = cloud_outputs("alice")
    del outputs[key]
    with pytest.raises(ConfigError) as error:
        settings_from_outputs("alice", outputs, "test outputs")
    assert f"{key}: missing" in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(("key", "lacking"), [("snowflake_schemas", "MARTS"), ("snowflake_warehouses", "bi")])
def test_incomplete_maps_name_what_they_lack(key: str, lacking: str) -> None:
    outputs = cloud_outputs("alice")
    outputs[key] = {k: v for k, v in outputs[key].items() if k != lacking.lower()}
    with pytest.raises(ConfigError, match=f"{key} lacks {lacking}"):
        settings_from_outputs("alice", outputs, "test outputs")


def test_malformed_json_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "outputs.json"
    path.write_text('{"stack": "alice",\n "lake_uri": }')
    with pytest.raises(ConfigError) as error:
        resolve_settings("alice", path)
    assert str(error.value) == f"outputs file {path} is not valid JSON (line 2: Expecting value)"


def test_secrets_never_shown(tmp_path: Path) -> None:
    settings = resolve_settings("alice", write_outputs(tmp_path, cloud_outputs("alice")))
    shown = repr(settings) + str(settings) + settings.model_dump_json()
    assert SECRET_ACCESS_KEY not in shown and POSTGRES_PASSWORD not in shown

    broken = cloud_outputs("alice") | {"snowflake_schemas": "not a map"}
    with pytest.raises(ConfigError) as error:
        settings_from_outputs("alice", broken, "test outputs")
    assert "snowflake_schemas" in str(error.value)
    assert SECRET_ACCESS_KEY not in str(error.value) and POSTGRES_PASSWORD not in str(error.value)


def test_env_mixes_an_s3_lake_with_the_local_duckdb_warehouse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPSTREAM_LAKE_URI", "s3://my-bucket/lake")
    monkeypatch.setenv("SHOPSTREAM_S3_ENDPOINT", "http://127.0.0.1:9000")
    settings = resolve_settings("dev")

    assert settings.lake.is_s3 and settings.lake.uri == "s3://my-bucket/lake"
    assert settings.lake.endpoint_override == "http://127.0.0.1:9000"
    assert settings.warehouse == local_settings("dev").warehouse
    assert settings.source.embedded


def test_env_mixes_a_local_lake_and_duckdb_with_cloud_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPSTREAM_LAKE_URI", str(tmp_path / "lake"))
    monkeypatch.setenv("SHOPSTREAM_WAREHOUSE", "duckdb")
    settings = resolve_settings("alice", write_outputs(tmp_path, cloud_outputs("alice")))

    assert settings.lake.uri == str(tmp_path / "lake") and not settings.lake.is_s3
    assert settings.warehouse.kind == "duckdb"
    assert settings.source.dsn is not None  # the cloud source edge stays


def test_snowflake_on_a_local_stack_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPSTREAM_WAREHOUSE", "snowflake")
    with pytest.raises(ConfigError, match="has no Snowflake outputs"):
        resolve_settings("dev")


def test_outputs_from_before_student_users_still_load_and_new_ones_are_kept() -> None:
    """Keys added with key-pair student users are optional: an outputs file exported earlier still parses."""
    old = cloud_outputs("alice")
    for key in ("cohort", "snowflake_user", "snowflake_default_warehouse"):
        old.pop(key, None)
        assert not StackOutputs.model_fields[key].is_required()
    assert settings_from_outputs("alice", old, "old outputs").warehouse.database == "SHOPSTREAM_ALICE"
    new = StackOutputs.model_validate(
        old
        | {"cohort": "fall2026", "snowflake_user": "SHOPSTREAM_FALL2026_ALICE_USER", "snowflake_default_warehouse": "W"}
    )
    assert (new.cohort, new.snowflake_user, new.snowflake_default_warehouse) == (
        "fall2026",
        "SHOPSTREAM_FALL2026_ALICE_USER",
        "W",
    )
