"""The roster check, stack names of a cohort, and `classroom plan` (no Pulumi CLI, no cloud)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.classroom.roster import RosterError, parse_roster
from pipeline.errors import ShopstreamError
from pipeline.naming import CohortNames, StackNames, student_stack, validate_stack
from pipeline.variant import variant_seed
from tests.helpers.classroom import ROSTER, Class

SHOPSTREAM = [str(Path(sys.executable).parent / "shopstream")]


# -- stack names ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("student_id", "stack"),
    [
        ("alice", "fall26-alice"),
        ("Anna Müller", "fall26-anna-muller"),
        ("  o'Brien, Seán ", "fall26-o-brien-sean"),
        ("12345", "fall26-12345"),
    ],
)
def test_student_ids_are_slugged_into_stack_names(student_id: str, stack: str):
    assert student_stack("fall26", student_id) == stack


def test_long_and_unsluggable_ids_get_a_stable_hash_within_the_length_limit():
    long_a, long_b = "jean-baptiste.emmanuel.zorg@school", "jean-baptiste.emmanuel.zorg@other"
    assert student_stack("fall26", long_a) != student_stack("fall26", long_b)
    assert student_stack("fall26", long_a) == student_stack("fall26", long_a)  # stable
    assert student_stack("fall26", long_a).startswith("fall26-jean-b")
    chinese = student_stack("fall26", "李雷")
    assert chinese.startswith("fall26-id") and chinese != student_stack("fall26", "韩梅梅")
    for student_id in (long_a, "李雷", "x" * 200, "a b c d e f g h i j k l m n"):
        stack = student_stack("abcdefghij", student_id)  # the longest cohort name leaves the least room
        assert validate_stack(stack) == stack and len(stack) <= 24


def test_cohort_names_are_short_words():
    for bad in ("", "Fall26", "fall-26", "2026fall", "abcdefghijk"):
        with pytest.raises(ShopstreamError, match="invalid cohort name"):
            student_stack(bad, "alice")
    assert CohortNames("fall26").course_stack == "fall26-course"
    assert CohortNames("fall26").grader_role == "SHOPSTREAM_FALL26_GRADER"


# -- roster -----------------------------------------------------------------------------------------------------
def test_a_good_roster_keeps_file_order_and_optional_columns():
    students = parse_roster(ROSTER, "fall26")
    assert [s.student_id for s in students] == ["alice", "bob", "carol", "dave", "Élodie Faÿ"]
    assert [s.line for s in students] == [2, 3, 4, 5, 6]
    assert students[2].email == "" and students[4].folder == "elodie-fay" and students[0].folder == "alice"
    assert parse_roster("student_id\nzed\n", "fall26")[0].stack == "fall26-zed"  # name and email are optional


BAD_ROSTER = """student_id,name,email,emial
alice,Alice,alice@example.edu,
,Nobody,nobody@example.edu,
bob,Bob,bob(at)example.edu,
alice,Alice again,alice2@example.edu,
Anna Müller,Anna,,
anna-muller,Anna M,,
course,The Course,,
"""


def test_a_bad_roster_is_refused_with_every_problem_by_line():
    with pytest.raises(RosterError) as refused:
        parse_roster(BAD_ROSTER, "fall26")
    assert refused.value.problems == [
        "line 1: unknown column 'emial' (expected student_id, name, email)",
        "line 3: empty student_id",
        "line 4: bad e-mail 'bob(at)example.edu' for student 'bob'",
        "line 5: duplicate student_id 'alice' (first on line 2)",
        "line 7: student_id 'anna-muller' gives stack 'fall26-anna-muller', like 'Anna Müller' on line 6",
        "line 8: student_id 'course' is reserved for the cohort's instructor stack",
    ]


def test_a_roster_without_student_id_or_students_is_refused():
    with pytest.raises(RosterError, match="must name a student_id column"):
        parse_roster("id,name\n1,x\n", "fall26")
    with pytest.raises(RosterError, match="has no students"):
        parse_roster("student_id,name\n", "fall26")
    with pytest.raises(RosterError, match="more fields than columns"):
        parse_roster("student_id,name\nalice,Alice,extra\n", "fall26")


# -- plan -------------------------------------------------------------------------------------------------------
def test_plan_json_lists_every_student_with_names_variant_and_config(a_class: Class):
    result = a_class.run("plan", "--roster", str(a_class.roster), "--cohort", "fall26", "--json")

    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    salt = json.loads((a_class.cohort / "cohort.json").read_text())["salt"]
    assert plan["cohort"] == "fall26" and plan["course"]["stack"] == "fall26-course"
    assert [s["stack"] for s in plan["students"]] == [
        "fall26-alice",
        "fall26-bob",
        "fall26-carol",
        "fall26-dave",
        "fall26-elodie-fay",
    ]
    alice = plan["students"][0]
    assert set(alice) >= {"student_id", "stack", "names", "config", "variant_seed"}
    names = StackNames("fall26-alice", cohort="fall26")
    assert alice["names"]["bucket_prefix"] == "shopstream-fall26-alice-lake" == names.bucket_prefix
    assert alice["names"]["database"] == names.database and alice["names"]["warehouses.bi"] == names.warehouses["bi"]
    assert alice["variant_seed"] == variant_seed("fall26-alice", salt)
    assert alice["config"]["shopstream:variantSeed"] == str(alice["variant_seed"])
    assert alice["config"]["shopstream:ownerEmail"] == "[secret]"
    assert alice["config"]["shopstream:cohort"] == "fall26"
    assert alice["config"]["shopstream:graderRole"] == "SHOPSTREAM_FALL26_GRADER"
    assert len({s["variant_seed"] for s in plan["students"]}) == 5  # one variant per student
    # No secret, salt or personal data in what plan prints.
    for leak in (salt, "alice@example.edu", "Alice Liddell"):
        assert leak not in result.stdout
    # plan is stable: the same salt, the same seeds.
    again = a_class.run("plan", "--roster", str(a_class.roster), "--cohort", "fall26", "--json")
    assert json.loads(again.stdout) == plan
    assert a_class.backend.calls == []  # plan never touches Pulumi


def test_plan_json_on_a_bad_roster_lists_the_problems_and_fails(a_class: Class):
    a_class.roster.write_text(BAD_ROSTER)

    result = a_class.run("plan", "--roster", str(a_class.roster), "--cohort", "fall26", "--json")

    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert len(document["problems"]) == 6 and document["problems"][1] == "line 3: empty student_id"
    assert not a_class.folder.exists()  # nothing written for a refused roster


def test_up_on_a_bad_roster_provisions_nothing(a_class: Class):
    a_class.roster.write_text(BAD_ROSTER)
    result = a_class.up()
    assert result.exit_code == 2
    assert "refused, nothing was provisioned" in result.stderr and "line 5: duplicate student_id" in result.stderr
    assert a_class.backend.calls == []


def test_plan_of_200_students_takes_under_5_seconds(a_class: Class):
    """The command itself, in process: interpreter start-up and imports (about 1 s, more on a busy machine) aside."""
    a_class.roster.write_text(
        "student_id,name,email\n" + "".join(f"s{i:04d},Student {i},s{i}@example.edu\n" for i in range(200))
    )
    started = time.perf_counter()
    result = a_class.run("plan", "--roster", str(a_class.roster), "--cohort", "big", "--json")
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert len(plan["students"]) == 200 and len({s["stack"] for s in plan["students"]}) == 200
    assert elapsed < 5, f"plan of 200 students took {elapsed:.1f} s"


def test_up_without_the_pulumi_cli_says_how_to_install_it(tmp_path: Path):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}  # the venv only: no `pulumi` on it
    result = subprocess.run(
        [*SHOPSTREAM, "classroom", "up", "--roster", str(roster), "--cohort", "fall26", "--dir", str(tmp_path / "c")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "the Pulumi CLI is not installed" in lines[0] and "curl -fsSL https://get.pulumi.com | sh" in lines[0]
    assert not (tmp_path / "c").exists()  # no salt, no keys, nothing


def test_planned_class_gives_grading_the_seeds_up_used(a_class: Class):
    from pipeline.classroom.cli import planned_class

    with pytest.raises(ShopstreamError, match="run `shopstream classroom up` first"):
        planned_class(a_class.roster, "fall26", a_class.folder)
    assert a_class.up().exit_code == 0
    planned = planned_class(a_class.roster, "fall26", a_class.folder)
    for student in planned.students:
        config = a_class.backend.stacks[student.stack].config
        assert config["shopstream:variantSeed"].value == str(student.variant_seed)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--credit-quota", "0"], "--credit-quota must be a positive number, not 0"),
        (["--instructor-email", "teacher.example.edu"], "--instructor-email 'teacher.example.edu' is not an e-mail"),
    ],
)
def test_bad_class_options_are_one_line_errors(a_class: Class, option: list[str], message: str):
    result = a_class.run("plan", "--roster", str(a_class.roster), "--cohort", "fall26", *option)
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {message}")
