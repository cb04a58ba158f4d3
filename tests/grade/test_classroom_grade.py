"""`shopstream classroom grade`: the roster and the cohort's private state drive class grading.

The cohort's state is made as `classroom up` leaves it (its salt); no Pulumi stack exists here, so one student's
stack is a local one (built from alice's lake and warehouse) and the other student has none yet.
"""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from pipeline.classroom.state import CohortFiles
from pipeline.cli import app
from pipeline.grade.classroom import as_grader, grader_login
from pipeline.grade.rubric import DEFAULT_RUBRIC
from pipeline.naming import DUCKDB_FILE, CohortNames, student_stack
from pipeline.settings import Settings, settings_from_outputs, shopstream_home
from tests.helpers.cloud import cloud_outputs
from tests.helpers.grading import SCALE

pytestmark = pytest.mark.slow


def test_classroom_grade_writes_the_cohorts_grades(alice: Settings, tmp_path: Path) -> None:
    classroom = tmp_path / "classroom"
    CohortFiles(classroom, "c1").salt(create=True)
    (tmp_path / "roster.csv").write_text("student_id,name\nann,Ann\nben,Ben\n")
    stack = student_stack("c1", "ann")
    home = shopstream_home() / stack
    shutil.copytree(alice.home / "lake", home / "lake")
    shutil.copyfile(alice.warehouse.path, home / DUCKDB_FILE)
    rubric = yaml.safe_load(DEFAULT_RUBRIC.read_text())
    for entry in rubric["checks"]:
        entry["enabled"] = entry["id"] != "data_tests"
    (tmp_path / "rubric.yml").write_text(yaml.safe_dump(rubric))

    result = CliRunner().invoke(
        app,
        [
            "classroom", "grade", "--roster", str(tmp_path / "roster.csv"), "--cohort", "c1",
            "--dir", str(classroom), "--scale", str(SCALE), "--rubric", str(tmp_path / "rubric.yml"),
        ],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    reports = classroom / "c1" / "grading" / "reports"
    with (reports / "grades.csv").open() as file:
        rows = {row["student_id"]: row for row in csv.DictReader(file)}
    assert list(rows) == ["ann", "ben"]
    assert rows["ann"]["stack"] == stack and float(rows["ann"]["score"]) < float(rows["ann"]["max_score"])
    assert rows["ann"]["figures.mart_sales_overview"] == "0"  # alice's data, not ann's variant
    assert rows["ann"]["independent_work"] == "5"  # no other key in this cohort: nothing to have copied
    assert "unknown stack" in rows["ben"]["error"]
    assert (classroom / "c1" / "grading" / "keys" / f"{stack}.json").exists()
    assert "1 of 2 students graded" in (reports / "overview.md").read_text()


def test_cloud_stacks_are_read_as_the_cohorts_grader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPSTREAM_HOME", str(tmp_path))
    names = CohortNames("c1")
    settings = as_grader(settings_from_outputs("c1-ann", cloud_outputs("c1-ann"), "test"), names)
    assert settings.warehouse.role == names.grader_role
    assert set(settings.warehouse.warehouses.values()) == {names.grader_warehouse}

    files = CohortFiles(tmp_path, "c1")
    files.grader_key.parent.mkdir(parents=True)
    files.grader_key.write_text("key")
    monkeypatch.setenv("SNOWFLAKE_USER", "instructor")
    monkeypatch.setenv("SNOWFLAKE_PASSWORD", "pw")
    monkeypatch.delenv("SNOWFLAKE_PRIVATE_KEY_PATH", raising=False)
    with grader_login(files, names):
        assert os.environ["SNOWFLAKE_USER"] == names.grader_user
        assert os.environ["SNOWFLAKE_PRIVATE_KEY_PATH"] == str(files.grader_key)
        assert "SNOWFLAKE_PASSWORD" not in os.environ
    assert (os.environ["SNOWFLAKE_USER"], os.environ["SNOWFLAKE_PASSWORD"]) == ("instructor", "pw")
    assert "SNOWFLAKE_PRIVATE_KEY_PATH" not in os.environ
