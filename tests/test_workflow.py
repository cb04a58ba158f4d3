"""The GitHub Actions workflow forks run (.github/workflows) passes actionlint, offline: syntax, expressions,
contexts, job outputs and action inputs. GitHub itself cannot be reached here, so actionlint is the check."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONLINT = Path(sys.executable).with_name("actionlint")


def actionlint(*workflows: Path) -> subprocess.CompletedProcess:
    assert ACTIONLINT.exists(), "actionlint is not installed: run `make install-all` (dev group)"
    command = [str(ACTIONLINT), "-no-color", *map(str, workflows)]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)


def test_the_workflows_pass_actionlint():
    workflows = sorted(WORKFLOWS.glob("*.yml"))
    assert [w.name for w in workflows] == ["ci.yml"]
    result = actionlint(*workflows)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("mistake", "replacement", "finding"),
    [
        ("timeout-minutes: 30", "timeout-minute: 30", 'unexpected key "timeout-minute"'),
        ("steps.select.outputs.build", "steps.selection.outputs.build", 'property "selection" is not defined'),
    ],
    ids=["misspelt-key", "unknown-step"],
)
def test_actionlint_fails_on_a_broken_workflow(tmp_path, mistake, replacement, finding):
    broken = tmp_path / ".github" / "workflows" / "ci.yml"
    broken.parent.mkdir(parents=True)
    text = (WORKFLOWS / "ci.yml").read_text()
    assert mistake in text
    broken.write_text(text.replace(mistake, replacement))
    result = actionlint(broken)
    assert result.returncode == 1
    assert finding in result.stdout
