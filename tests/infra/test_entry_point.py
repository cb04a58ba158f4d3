"""`infra/__main__.py` as Pulumi's engine runs it: the program folder executed as a script, under the mock runtime."""

from __future__ import annotations

import runpy
from pathlib import Path

import pulumi
import pytest

from infra.stack import build
from tests.helpers.infra import stack_config
from tests.infra.program import run_program

PROGRAM_DIR = Path(__file__).resolve().parents[2] / "infra"


def test_the_entry_point_exports_what_the_stack_builds(monkeypatch: pytest.MonkeyPatch):
    exported: dict[str, object] = {}
    monkeypatch.setattr(pulumi, "export", exported.__setitem__)

    def entry_point() -> dict:
        runpy.run_path(str(PROGRAM_DIR), run_name="__main__")
        return exported

    run = run_program("carol", stack_config(owner="carol"), program=entry_point)
    direct = run_program("carol", stack_config(owner="carol"), program=build)
    assert run.outputs, "the entry point exported nothing"
    assert run.outputs == direct.outputs
    assert sorted(d.name for d in run.declared) == sorted(d.name for d in direct.declared)
