"""Data variants, the rubric file and the grade command's one-line refusals (no stack is built here)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.errors import ConfigError
from pipeline.grade.rubric import DEFAULT_RUBRIC, load_rubric
from pipeline.settings import ENV_COURSE_SALT, local_settings, settings_from_outputs
from pipeline.variant import stack_seed, variant_seed
from tests.helpers.cloud import cloud_outputs


def test_cloud_stack_takes_its_variant_from_the_outputs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SHOPSTREAM_HOME", str(tmp_path))
    monkeypatch.delenv(ENV_COURSE_SALT, raising=False)
    outputs = {**cloud_outputs("alice"), "variant_seed": 123456}
    assert stack_seed(settings_from_outputs("alice", outputs, "test")) == 123456
    assert stack_seed(settings_from_outputs("alice", cloud_outputs("alice"), "test")) == variant_seed("alice")


def test_local_stack_variant_follows_name_and_salt(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SHOPSTREAM_HOME", str(tmp_path))
    monkeypatch.delenv(ENV_COURSE_SALT, raising=False)
    unsalted = {stack: stack_seed(local_settings(stack)) for stack in ("alice", "bob")}
    monkeypatch.setenv(ENV_COURSE_SALT, "s3cret")
    salted = {stack: stack_seed(local_settings(stack)) for stack in ("alice", "bob")}
    assert unsalted["alice"] != unsalted["bob"] and salted["alice"] != salted["bob"]
    assert salted["alice"] != unsalted["alice"] == variant_seed("alice")
    assert salted["alice"] == variant_seed("alice", "s3cret") == stack_seed(local_settings("alice"))


def test_rubric_reweights_and_disables_without_code(tmp_path: Path) -> None:
    document = yaml.safe_load(DEFAULT_RUBRIC.read_text())
    for entry in document["checks"]:
        if entry["id"] == "raw_rows":
            entry["points"] = 40
        if entry["id"] == "data_tests":
            entry["enabled"] = False
    path = tmp_path / "rubric.yml"
    path.write_text(yaml.safe_dump(document))
    rubric = load_rubric(path)
    assert rubric.entry("raw_rows").points == 40
    assert rubric.entry("data_tests").enabled is False
    assert rubric.entry("figures.mart_new_one").title.startswith("mart_new_one")  # the figures.* fallback


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("checks: [{id: a, title: A, points: -1}]", "greater than or equal to 0"),
        ("checks: [{id: a, title: A, points: 1, weight: 2}]", "weight"),
        ("checks: [{id: a, title: A, points: 1}, {id: a, title: B, points: 2}]", "duplicate check ids a"),
        ("checks: [", "not valid YAML"),
    ],
)
def test_bad_rubric_is_one_line(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "rubric.yml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=words) as caught:
        load_rubric(path)
    assert "\n" not in str(caught.value)


def test_grade_refuses_unknown_stack_and_missing_key_in_one_line(shopstream_home: Path) -> None:
    runner = CliRunner()
    unknown = runner.invoke(app, ["grade", "--stack", "nosuchstudent"])
    assert unknown.exit_code != 0 and "unknown stack 'nosuchstudent'" in unknown.output
    local = {"SHOPSTREAM_LOCAL": "1"}  # the local twins of `dev`, whether or not another test set them up
    missing = runner.invoke(app, ["grade", "--stack", "dev", "--key", str(shopstream_home / "none.json")], env=local)
    assert missing.exit_code != 0 and "no answer key at" in missing.output
    for result in (unknown, missing):
        assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
