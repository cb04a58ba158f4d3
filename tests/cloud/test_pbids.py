"""The Power BI data-source file of a cloud stack, and the refusal for local stacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.serve.pbids import write_pbids
from pipeline.settings import local_settings, settings_from_outputs
from tests.helpers.cloud import SECRET_ACCESS_KEY, cloud_outputs


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPSTREAM_HOME", str(tmp_path / "home"))


def test_pbids_points_power_bi_at_the_bi_warehouse(tmp_path: Path) -> None:
    outputs = cloud_outputs("alice")
    settings = settings_from_outputs("alice", outputs, "test outputs")

    path = write_pbids(settings, tmp_path / "out" / "alice.pbids")

    document = json.loads(path.read_text())
    assert document == {
        "version": "0.1",
        "connections": [
            {
                "details": {
                    "protocol": "snowflake",
                    "address": {
                        "server": f"{outputs['snowflake_account']}.snowflakecomputing.com",
                        "warehouse": outputs["snowflake_warehouses"]["bi"],
                    },
                },
                "options": {},
                "mode": "DirectQuery",
            }
        ],
    }
    assert SECRET_ACCESS_KEY not in path.read_text()


def test_default_path_names_database_and_marts_schema() -> None:
    settings = settings_from_outputs("alice", cloud_outputs("alice"), "test outputs")
    path = write_pbids(settings)
    assert path == settings.home / "shopstream_alice_marts.pbids"
    assert path.is_file()


def test_local_stack_gets_a_clear_error() -> None:
    with pytest.raises(ConfigError, match=r"Power BI cannot reach.*shopstream dashboard --stack dev"):
        write_pbids(local_settings("dev"))
