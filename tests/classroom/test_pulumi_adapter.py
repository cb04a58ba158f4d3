"""The real adapter (`PulumiAutomation`) through the real `pulumi.automation` library, against a stand-in CLI.

No Pulumi CLI can be installed here, so fake_pulumi_cli.py answers the command lines the Automation API builds;
this checks that the adapter calls the library as intended (create-or-select, config with secrets, `up` with the
policy pack, outputs with secrets revealed, history, listing, destroy and remove) and classifies its errors.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from pipeline.classroom.automation import POLICY_PACK, REPOSITORY, PulumiAutomation, StackBusyError
from pipeline.classroom.plan import ConfigEntry

FAKE_CLI = Path(__file__).with_name("fake_pulumi_cli.py")


@pytest.fixture
def pulumi_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    executable = bin_dir / "pulumi"
    executable.write_text(f"#!{sys.executable}\n{FAKE_CLI.read_text()}")
    executable.chmod(0o755)
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"stacks": {}, "calls": [], "busy": []}))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_PULUMI_STATE", str(state))
    return state


def calls(state: Path) -> list[list[str]]:
    return json.loads(state.read_text())["calls"]


def test_the_adapter_drives_a_stack_through_its_life(pulumi_state: Path):
    automation = PulumiAutomation()
    logged: list[str] = []

    assert automation.ensure_stack("fall26-alice") is True  # created
    assert automation.ensure_stack("fall26-alice") is False  # selected on a rerun
    automation.set_config(
        "fall26-alice", {"aws:region": ConfigEntry("eu-west-1"), "shopstream:ownerEmail": ConfigEntry("a@b.c", True)}
    )
    assert automation.get_config("fall26-alice") == {"aws:region": "eu-west-1", "shopstream:ownerEmail": "a@b.c"}
    outputs = automation.up("fall26-alice", logged.append)
    assert outputs == {"stack": "fall26-alice", "seed": 42, "password": "s3cret"}  # secrets revealed
    assert any("3 created" in line for line in logged)
    summary = automation.summary("fall26-alice")
    assert (summary.last_result, summary.resource_count) == ("succeeded", 3) and summary.last_update is not None
    assert automation.list_stacks() == ["fall26-alice"]
    automation.destroy("fall26-alice", logged.append)
    automation.remove("fall26-alice")
    assert automation.list_stacks() == []

    commands = calls(pulumi_state)
    up = next(command for command in commands if command[0] == "up")
    assert ["--policy-pack", str(POLICY_PACK)] == up[up.index("--policy-pack") : up.index("--policy-pack") + 2]
    assert up[-2:] == ["--stack", "fall26-alice"] and "--yes" in up
    set_all = next(command for command in commands if command[:2] == ["config", "set-all"])
    assert "--secret" in set_all and "shopstream:ownerEmail=a@b.c" in set_all
    assert "--plaintext" in set_all and "aws:region=eu-west-1" in set_all
    assert REPOSITORY.joinpath("Pulumi.yaml").exists()  # the workspace is this repository's project


def test_a_busy_stack_is_reported_as_busy(pulumi_state: Path):
    automation = PulumiAutomation()
    automation.ensure_stack("fall26-bob")
    state = json.loads(pulumi_state.read_text())
    pulumi_state.write_text(json.dumps({**state, "busy": ["fall26-bob"]}))
    with pytest.raises(StackBusyError, match="Another update is currently in progress"):
        automation.up("fall26-bob", print)
