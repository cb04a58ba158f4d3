"""A class driven through `shopstream classroom` with the fake Pulumi adapter (see fake_automation.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from pipeline import cli
from pipeline.classroom import cli as classroom_cli
from pipeline.classroom.runner import RetryPolicy
from tests.classroom.fake_automation import FakeAutomation, FakeBackend

ROSTER = """student_id,name,email
alice,Alice Liddell,alice@example.edu
bob,Bob Tables,bob@example.edu
carol,Carol Shaw,
dave,Dave Null,dave@example.edu
Élodie Faÿ,Élodie,elodie@example.edu
"""
STACKS = ["fall26-alice", "fall26-bob", "fall26-carol", "fall26-dave", "fall26-elodie-fay"]
COURSE = "fall26-course"


@dataclass
class Class:
    """One instructor's classroom: a roster, a classroom folder, a fake backend and the pauses retries took."""

    folder: Path
    roster: Path
    backend: FakeBackend
    pauses: list[float] = field(default_factory=list)

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(cli.app, ["classroom", *args, "--dir", str(self.folder)])

    def up(self, *args: str) -> Result:
        return self.run("up", "--roster", str(self.roster), "--cohort", "fall26", *args)

    @property
    def cohort(self) -> Path:
        return self.folder / "fall26"

    def handout(self, folder: str) -> Path:
        return self.cohort / "handout" / folder


@pytest.fixture
def a_class(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Class]:
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)
    the_class = Class(folder=tmp_path / "classroom", roster=roster, backend=FakeBackend())
    monkeypatch.setattr(classroom_cli, "open_automation", lambda: FakeAutomation(the_class.backend))
    monkeypatch.setattr(
        classroom_cli, "retry_policy", lambda: RetryPolicy(attempts=4, first_delay=2, sleep=the_class.pauses.append)
    )
    # Wide consoles, so table cells are never cut short.
    monkeypatch.setattr(cli.out, "width", 250)
    monkeypatch.setattr(cli.err, "width", 250)
    yield the_class
