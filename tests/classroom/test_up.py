"""`classroom up`, `rotate-keys`, `handout`, `status` and `destroy` against the fake Pulumi adapter.

The Pulumi CLI and engine cannot run here; fake_automation.py stands in for the one adapter module and fails on
demand. Everything else is real: the roster check, the plan, RSA keys, the thread pool, retries, log files,
hand-out files and their permissions, the tables and the exit codes.
"""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from pipeline.classroom.handout import HANDOUT_FILES
from pipeline.classroom.keys import public_key_of
from pipeline.variant import variant_seed
from tests.classroom.fake_automation import Crash
from tests.helpers.classroom import COURSE, STACKS, Class


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def public_key_in(folder: Path) -> str:
    key = serialization.load_pem_private_key((folder / "snowflake_key.p8").read_bytes(), password=None)
    return public_key_of(key)  # type: ignore[arg-type]


def handout_bytes(the_class: Class) -> dict[str, bytes]:
    return {
        str(path.relative_to(the_class.cohort)): path.read_bytes()
        for path in sorted((the_class.cohort / "handout").rglob("*"))
        if path.is_file()
    }


def table_row(output: str, stack: str) -> str:
    return next(line for line in output.splitlines() if f" {stack} " in line)


def test_up_provisions_the_course_then_every_student_with_private_handouts(a_class: Class):
    result = a_class.up("--parallel", "2", "--credit-quota", "3")
    assert result.exit_code == 0, result.output
    backend = a_class.backend

    # The course stack first (student grants need its grader role), then each student: create, config, up.
    assert backend.calls[:3] == [("ensure", COURSE), ("config", COURSE), ("up", COURSE)]
    for stack in STACKS:
        assert backend.calls_for(stack) == ["ensure", "config", "up"]
    assert set(backend.created) == {COURSE, *STACKS}

    salt = json.loads((a_class.cohort / "cohort.json").read_text())["salt"]
    alice = backend.stacks["fall26-alice"].config
    assert {key: entry.value for key, entry in alice.items() if key != "shopstream:studentPublicKey"} == {
        "aws:region": "eu-west-1",
        "shopstream:cohort": "fall26",
        "shopstream:owner": "fall26-alice",
        "shopstream:creditQuota": "3",
        "shopstream:graderRole": "SHOPSTREAM_FALL26_GRADER",
        "shopstream:variantSeed": str(variant_seed("fall26-alice", salt)),
        "shopstream:ownerEmail": "alice@example.edu",
    }
    assert alice["shopstream:ownerEmail"].secret and not alice["shopstream:cohort"].secret
    assert "shopstream:ownerEmail" not in backend.stacks["fall26-carol"].config  # carol gave no e-mail
    course = backend.stacks[COURSE].config
    assert course["shopstream:course"].value == "true"
    assert course["shopstream:graderPublicKey"].value == public_key_in(a_class.cohort / "grader")

    # Each hand-out: exactly the four files, private, the key matching the public key on the stack.
    for stack, folder in zip(STACKS, ["alice", "bob", "carol", "dave", "elodie-fay"], strict=True):
        handout = a_class.handout(folder)
        assert sorted(p.name for p in handout.iterdir()) == sorted(HANDOUT_FILES)
        assert mode(handout) == 0o700
        assert all(mode(handout / name) == 0o600 for name in HANDOUT_FILES)
        config = backend.stacks[stack].config
        assert config["shopstream:studentPublicKey"].value == public_key_in(handout)
        assert json.loads((handout / "outputs.json").read_text()) == backend.stacks[stack].outputs
        pbids = json.loads((handout / "shopstream.pbids").read_text())
        assert (
            pbids["connections"][0]["details"]["address"]["warehouse"]
            == backend.stacks[stack].outputs["snowflake_warehouses"]["bi"]
        )
        readme = (handout / "README.md").read_text()
        assert f"shopstream run --stack {stack} --outputs" in readme
    assert mode(a_class.cohort) == 0o700 and mode(a_class.cohort / "handout") == 0o700
    assert mode(a_class.cohort / "cohort.json") == 0o600

    # The cohort's salt never leaves the instructor's state; each student's outputs only in their own folder.
    for name, content in handout_bytes(a_class).items():
        assert salt.encode() not in content, name
        if not name.startswith("handout/bob/"):
            assert b"secret-of-fall26-bob" not in content, name

    # Per-stack logs with Pulumi's output, private; a final table with one ok row per stack.
    log = a_class.cohort / "logs" / "fall26-alice.log"
    assert mode(log) == 0o600 and "42 created" in log.read_text() and "up succeeded" in log.read_text()
    for stack in [COURSE, *STACKS]:
        assert " ok " in table_row(result.stdout, stack)


def test_a_busy_stack_is_retried_with_growing_pauses_and_succeeds(a_class: Class):
    a_class.backend.busy[("up", "fall26-bob")] = 2
    a_class.backend.busy[("config", "fall26-dave")] = 1

    result = a_class.up()

    assert result.exit_code == 0, result.output
    assert a_class.backend.calls_for("fall26-bob") == ["ensure", "config", "up", "up", "up"]
    assert a_class.backend.calls_for("fall26-dave") == ["ensure", "config", "config", "up"]
    # First retries wait 2 s, a second one 4 s, each less up to 50 % jitter (so parallel retries spread out).
    first, second, third = sorted(a_class.pauses)
    assert 1 <= first <= second <= 2 <= third <= 4
    bob_row = table_row(result.stdout, "fall26-bob")
    assert " ok " in bob_row and " 2 " in bob_row
    assert "stack busy" in (a_class.cohort / "logs" / "fall26-bob.log").read_text()


def test_a_stack_busy_for_good_fails_alone_with_a_way_out(a_class: Class):
    a_class.backend.busy[("up", "fall26-carol")] = 99

    result = a_class.up()

    assert result.exit_code == 1
    assert a_class.backend.calls_for("fall26-carol").count("up") == 4  # the policy's 4 attempts, then give up
    row = table_row(result.stdout, "fall26-carol")
    assert "failed" in row and "pulumi cancel --stack fall26-carol" in row
    assert all(" ok " in table_row(result.stdout, stack) for stack in STACKS if stack != "fall26-carol")


def test_one_student_failing_does_not_stop_the_others_and_the_exit_code_says_so(a_class: Class):
    a_class.backend.failures[("up", "fall26-carol")] = "error: resource monitor quota exceeded for the account"

    result = a_class.up("--parallel", "3")

    assert result.exit_code == 1
    assert a_class.backend.calls_for("fall26-carol") == ["ensure", "config", "up"]  # a real failure is not retried
    row = table_row(result.stdout, "fall26-carol")
    assert "failed" in row and "resource monitor quota exceeded" in row
    assert "1 of 6 stacks did not succeed" in result.stderr
    assert not (a_class.handout("carol") / "outputs.json").exists()
    assert (a_class.handout("carol") / "snowflake_key.p8").exists()  # kept, so the rerun keeps the same key
    for stack, folder in (("fall26-alice", "alice"), ("fall26-dave", "dave"), ("fall26-elodie-fay", "elodie-fay")):
        assert " ok " in table_row(result.stdout, stack)
        assert (a_class.handout(folder) / "outputs.json").exists()

    carol_key = a_class.backend.stacks["fall26-carol"].config["shopstream:studentPublicKey"].value
    del a_class.backend.failures[("up", "fall26-carol")]
    rerun = a_class.up("--only", "carol")
    assert rerun.exit_code == 0, rerun.output
    assert a_class.backend.stacks["fall26-carol"].config["shopstream:studentPublicKey"].value == carol_key
    assert (a_class.handout("carol") / "outputs.json").exists()


def test_a_crash_mid_class_then_a_rerun_finishes_the_class_without_redoing_it(a_class: Class):
    a_class.backend.crashes.add(("up", "fall26-dave"))

    with pytest.raises(Crash):  # the process dies: nothing after it runs, not even the final table
        a_class.up("--parallel", "1")

    assert a_class.backend.calls_for("fall26-elodie-fay") == []  # not started after the crash
    assert "fall26-dave" in a_class.backend.stacks  # created and configured, never brought up
    assert not (a_class.handout("dave") / "outputs.json").exists()
    before = handout_bytes(a_class)
    assert "handout/alice/snowflake_key.p8" in before and "handout/dave/snowflake_key.p8" in before

    a_class.backend.calls.clear()
    rerun = a_class.up("--parallel", "1")

    assert rerun.exit_code == 0, rerun.output
    assert all(count == 1 for count in a_class.backend.created.values())  # every stack created exactly once
    after = handout_bytes(a_class)
    for name, content in before.items():  # keys and finished hand-outs are kept as they were
        if not name.endswith("outputs.json") and not name.endswith("README.md"):
            assert after[name] == content, name
    assert "handout/dave/outputs.json" in after and "handout/elodie-fay/outputs.json" in after


def test_a_rerun_changes_nothing(a_class: Class):
    assert a_class.up("--credit-quota", "7", "--region", "us-east-1").exit_code == 0
    config_before = {stack: dict(state.config) for stack, state in a_class.backend.stacks.items()}
    files_before = handout_bytes(a_class)

    rerun = a_class.up()  # no options: the cohort's recorded choices, not the defaults

    assert rerun.exit_code == 0, rerun.output
    assert {stack: dict(state.config) for stack, state in a_class.backend.stacks.items()} == config_before
    assert handout_bytes(a_class) == files_before
    assert config_before["fall26-bob"]["shopstream:creditQuota"].value == "7"


def test_rotate_keys_replaces_only_the_chosen_students_keys(a_class: Class):
    assert a_class.up().exit_code == 0
    old_alice, old_bob = public_key_in(a_class.handout("alice")), public_key_in(a_class.handout("bob"))

    result = a_class.run("rotate-keys", "--roster", str(a_class.roster), "--cohort", "fall26", "--only", "alice")

    assert result.exit_code == 0, result.output
    new_alice = public_key_in(a_class.handout("alice"))
    assert new_alice != old_alice and base64.b64decode(new_alice)
    assert a_class.backend.stacks["fall26-alice"].config["shopstream:studentPublicKey"].value == new_alice
    assert public_key_in(a_class.handout("bob")) == old_bob
    assert mode(a_class.handout("alice") / "snowflake_key.p8") == 0o600


def test_only_refuses_students_not_on_the_roster(a_class: Class):
    result = a_class.up("--only", "alice,mallory")
    assert result.exit_code == 1
    assert "--only names students not on the roster: mallory" in result.stderr
    assert a_class.backend.calls == []


def test_handout_rewrites_folders_from_the_stacks_outputs(a_class: Class):
    assert a_class.up().exit_code == 0
    (a_class.handout("bob") / "outputs.json").unlink()
    (a_class.handout("bob") / "README.md").write_text("edited")
    a_class.backend.calls.clear()

    result = a_class.run("handout", "--roster", str(a_class.roster), "--cohort", "fall26", "--only", "bob")

    assert result.exit_code == 0, result.output
    assert a_class.backend.calls == [("outputs", "fall26-bob")]
    assert json.loads((a_class.handout("bob") / "outputs.json").read_text())["stack"] == "fall26-bob"
    assert "shopstream run --stack fall26-bob" in (a_class.handout("bob") / "README.md").read_text()


def test_status_shows_every_stack_of_the_cohort(a_class: Class):
    a_class.backend.failures[("up", "fall26-carol")] = "error: boom"
    a_class.up()
    a_class.backend.stacks["spring27-zed"] = type(a_class.backend.stacks["fall26-bob"])()  # another cohort

    result = a_class.run("status", "--cohort", "fall26", "--json")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    rows = {row["stack"]: row for row in document["stacks"]}
    assert list(rows) == [*sorted(STACKS), COURSE]
    assert rows["fall26-bob"]["last_result"] == "succeeded" and rows["fall26-bob"]["outputs"] == "complete"
    assert rows["fall26-bob"]["resources"] == 42 and rows["fall26-bob"]["credit_quota"] == "5"
    assert rows["fall26-carol"]["last_result"] == "failed" and rows["fall26-carol"]["outputs"] == "none"
    assert rows[COURSE]["outputs"] == "complete"

    table = a_class.run("status", "--cohort", "fall26")
    assert table.exit_code == 0
    assert "failed" in table_row(table.stdout, "fall26-carol") and "succeeded" in table_row(table.stdout, "fall26-bob")


def test_destroy_refuses_without_yes(a_class: Class):
    a_class.up()
    a_class.backend.calls.clear()
    result = a_class.run("destroy", "--cohort", "fall26")
    assert result.exit_code == 2
    assert "refusing to destroy 6 stacks of cohort fall26 without --yes" in result.stderr
    assert [operation for operation, _ in a_class.backend.calls] == ["list"]


def test_destroy_removes_students_then_the_course_and_the_handouts(a_class: Class):
    a_class.up()
    a_class.backend.busy[("destroy", "fall26-alice")] = 1
    a_class.backend.calls.clear()

    result = a_class.run("destroy", "--cohort", "fall26", "--yes")

    assert result.exit_code == 0, result.output
    assert a_class.backend.stacks == {}
    assert a_class.backend.calls_for("fall26-alice") == ["destroy", "destroy", "remove"]
    assert a_class.backend.calls[-2:] == [("destroy", COURSE), ("remove", COURSE)]
    assert list((a_class.cohort / "handout").iterdir()) == []
    assert (a_class.cohort / "cohort.json").exists()  # the salt outlives the stacks (grades stay reproducible)


def test_destroy_keeps_the_course_while_a_student_stack_remains(a_class: Class):
    a_class.up()
    a_class.backend.failures[("destroy", "fall26-dave")] = "error: database in use"

    result = a_class.run("destroy", "--cohort", "fall26", "--yes")

    assert result.exit_code == 1
    assert set(a_class.backend.stacks) == {"fall26-dave", COURSE}
    assert "kept" in table_row(result.stdout, COURSE) and "database in use" in table_row(result.stdout, "fall26-dave")
    assert (a_class.handout("dave") / "outputs.json").exists()


def test_a_failing_course_stack_leaves_every_student_stack_alone(a_class: Class):
    a_class.backend.failures[("up", COURSE)] = "error: insufficient privileges to create a resource monitor"

    result = a_class.up()

    assert result.exit_code == 1
    assert "the course stack failed, so no student stack was touched" in result.stderr
    assert "insufficient privileges" in table_row(result.stdout, COURSE)
    assert all(a_class.backend.calls_for(stack) == [] for stack in STACKS)


def test_a_folder_another_student_created_meanwhile_is_no_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Parallel students create `handout/` together: one sees it missing, another creates it first."""
    from pipeline.classroom.state import private_dir, write_private

    shared = private_dir(tmp_path / "classroom" / "fall26" / "handout")
    real_exists = Path.exists
    # `handout/` was checked before the other thread's mkdir (only there: nothing outside tmp_path may be touched).
    monkeypatch.setattr(Path, "exists", lambda self: False if self.is_relative_to(shared) else real_exists(self))
    write_private(shared / "alice" / "README.md", "x")
    monkeypatch.undo()
    assert (shared / "alice" / "README.md").read_text() == "x"
    assert mode(shared / "alice") == mode(shared) == 0o700 and mode(shared / "alice" / "README.md") == 0o600


def test_a_handout_removed_by_a_parallel_destroy_is_skipped_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Students are destroyed in parallel: carol's hand-out can vanish between bob's listing and his reading it."""
    from pipeline.classroom.runner import handouts_of
    from pipeline.classroom.state import CohortFiles

    files = CohortFiles(tmp_path, "fall26")
    for student in ("bob", "carol"):
        (files.handouts / student).mkdir(parents=True)
        (files.handouts / student / "outputs.json").write_text(json.dumps({"stack": f"fall26-{student}"}))
    real_read_text = Path.read_text

    def read_text_after_carol_left(self: Path, *args: object, **kwargs: object) -> str:
        if self.parent.name == "carol":
            raise FileNotFoundError(2, "No such file or directory", str(self))
        return real_read_text(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", read_text_after_carol_left)
    assert handouts_of(files, "fall26-bob") == [files.handouts / "bob"]


def test_the_live_board_shows_running_and_failed_stacks_and_the_tally():
    from rich.console import Console

    from pipeline.classroom.runner import Board

    board = Board("Cohort fall26", [("alice", "fall26-alice"), ("bob", "fall26-bob"), ("carol", "fall26-carol")])
    board.add("(course)", COURSE)
    board.update(COURSE, "ok")
    board.update("fall26-alice", "pulumi up: busy, retry in 4s")
    board.update("fall26-bob", "failed")
    console = Console(record=True, width=200)
    console.print(board)
    text = console.export_text()
    assert "Cohort fall26: 1 ok · 1 failed · 1 running · 1 queued" in text
    assert "pulumi up: busy, retry in 4s" in text and "fall26-bob" in text
    assert "fall26-carol" not in text and COURSE not in text  # queued and finished rows stay out of the way
