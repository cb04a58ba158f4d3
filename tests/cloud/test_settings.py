"""Settings of a cloud stack from its Pulumi outputs, and environment overrides that mix local and cloud edges."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.settings import (
    REPO_ROOT,
    Environment,
    SnowflakeWarehouse,
    StackOutputs,
    local_settings,
    resolve_settings,
    settings_from_outputs,
)
from tests.helpers.cloud import POSTGRES_PASSWORD, SECRET_ACCESS_KEY, cloud_outputs

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
    settings = resolve_settings("dev", local=True)

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
        resolve_settings("dev", local=True)


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


# -- local twin or cloud: an explicit choice, and Pulumi failures that say which ------------------------------------
def fake_pulumi(bin_dir: Path, monkeypatch: pytest.MonkeyPatch, *, stdout: str = "", stderr: str = "", code: int = 0):
    """A stand-in `pulumi` executable on PATH: no Pulumi CLI can be installed here, so the adapter's four failure
    modes are produced by a script that answers like the real CLI does."""
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "stdout").write_text(stdout)
    (bin_dir / "stderr").write_text(stderr)
    script = bin_dir / "pulumi"
    script.write_text(f"#!/bin/sh\ncat {bin_dir / 'stdout'}\ncat {bin_dir / 'stderr'} >&2\nexit {code}\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")


def test_a_cloud_stack_named_dev_runs_in_the_cloud_and_local_is_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pulumi up` on dev, then `shopstream run --stack dev`: the cloud stack, even where dev ran locally before."""
    monkeypatch.delenv("SHOPSTREAM_LOCAL", raising=False)
    local = resolve_settings("dev", local=True, create=True)  # `make run` before the cloud stack existed
    assert local.local and local.warehouse.kind == "duckdb"
    fake_pulumi(tmp_path / "bin", monkeypatch, stdout=json.dumps(cloud_outputs("dev")))

    cloud = resolve_settings("dev", create=True)

    assert not cloud.local and isinstance(cloud.warehouse, SnowflakeWarehouse)
    assert cloud.origin == "pulumi stack dev"
    assert resolve_settings("dev", local=True).warehouse == local.warehouse  # `make run` passes --local
    monkeypatch.setenv("SHOPSTREAM_LOCAL", "1")
    assert resolve_settings("dev").local


def test_without_pulumi_a_stack_is_local_only_once_its_twins_were_set_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("SHOPSTREAM_LOCAL", raising=False)
    with pytest.raises(ConfigError, match=r"unknown stack 'dev'.*Pulumi CLI is not installed.*--local"):
        resolve_settings("dev")
    assert resolve_settings("dev", create=True).local  # `shopstream up/run` create it
    assert resolve_settings("dev").local  # ... and later commands find it


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (
            {
                "stderr": "error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions",
                "code": 255,
            },
            "not logged in: run `pulumi login`",
        ),
        ({"stderr": "error: no stack named 'dev' found", "code": 255}, "Pulumi has no stack 'dev'"),
        ({"stdout": "Current stack outputs (0):"}, "outputs of Pulumi stack 'dev' are not JSON"),
        ({"stdout": "[1, 2]"}, "are not a JSON object"),
    ],
)
def test_each_pulumi_failure_says_which_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answer: dict, error: str
) -> None:
    monkeypatch.delenv("SHOPSTREAM_LOCAL", raising=False)
    fake_pulumi(tmp_path / "bin", monkeypatch, **answer)
    with pytest.raises(ConfigError, match=error):
        resolve_settings("dev")


def test_a_pulumi_not_logged_in_never_falls_back_to_the_local_twins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SHOPSTREAM_LOCAL", raising=False)
    resolve_settings("dev", local=True, create=True)
    fake_pulumi(tmp_path / "bin", monkeypatch, stderr="error: not logged in", code=255)
    with pytest.raises(ConfigError, match=r"not logged in.*pass --local"):
        resolve_settings("dev")


def test_options_win_over_environment_which_wins_over_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outputs = write_outputs(tmp_path, cloud_outputs("alice"))
    from_outputs = resolve_settings("alice", outputs)
    monkeypatch.setenv("SHOPSTREAM_LAKE_URI", str(tmp_path / "env-lake"))
    from_env = resolve_settings("alice", outputs)
    from_option = resolve_settings("alice", outputs, lake_uri=str(tmp_path / "option-lake"))
    assert from_outputs.lake.uri == cloud_outputs("alice")["lake_uri"]
    assert from_env.lake.uri == str(tmp_path / "env-lake")
    assert from_option.lake.uri == str(tmp_path / "option-lake")
    monkeypatch.setenv("SHOPSTREAM_STACK", "bob")
    assert resolve_settings(local=True).stack == "bob" and resolve_settings("carol", local=True).stack == "carol"


def test_the_default_home_does_not_depend_on_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SHOPSTREAM_HOME")
    monkeypatch.chdir(tmp_path)
    assert Environment.read().shopstream_home == REPO_ROOT / ".shopstream"
    monkeypatch.setenv("SHOPSTREAM_HOME", "relative-home")  # a relative home is asked for: the current directory
    assert Environment.read().shopstream_home == tmp_path / "relative-home"
