"""Grading a class of ten local stacks through `shopstream grade class`: reports, grades.csv and overview.md.

The class is a realistic mix: four finished stacks, one built on another student's data, two that stopped after
extract, one after load, two never created. The rubric comes from a YAML file the way an instructor changes it:
the dbt data tests reweighted to 20 points, the S3 bucket check disabled.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.grade.rubric import DEFAULT_RUBRIC
from pipeline.naming import DUCKDB_FILE
from pipeline.settings import Settings, shopstream_home
from pipeline.source.server import EmbeddedServer
from tests.helpers.grading import SCALE, Cohort, build_student_stack

pytestmark = pytest.mark.slow

CLASS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"]


def stack_copied_from(source: Settings, stack: str) -> None:
    """`stack` made of another student's lake and warehouse."""
    home = shopstream_home() / stack
    shutil.copytree(source.home / "lake", home / "lake")
    shutil.copyfile(source.warehouse.path, home / DUCKDB_FILE)


@pytest.fixture(scope="module")
def graded_class(cohort: Cohort, alice: Settings, bob: Settings, tmp_path_factory) -> dict:
    build_student_stack("carol")
    build_student_stack("dave")
    stack_copied_from(alice, "erin")
    build_student_stack("frank", upto="extract")
    build_student_stack("grace", upto="extract")
    build_student_stack("heidi", upto="load")
    folder = tmp_path_factory.mktemp("class")
    rubric = yaml.safe_load(DEFAULT_RUBRIC.read_text())
    for entry in rubric["checks"]:
        entry["enabled"] = entry["id"] != "cloud_bucket_private"
        entry["points"] = 20 if entry["id"] == "data_tests" else entry["points"]
    (folder / "rubric.yml").write_text(yaml.safe_dump(rubric))
    out = folder / "grades"
    servers_made: list[Path] = []
    make_server = EmbeddedServer._initdb

    def counted(server: EmbeddedServer) -> None:
        servers_made.append(server.pgdata)
        make_server(server)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(EmbeddedServer, "_initdb", counted)
        result = CliRunner().invoke(
            app,
            [
                "grade", "class", "--stacks", ",".join(CLASS), "--cohort", "test", "--keys", str(cohort.keys_dir),
                "--scale", str(SCALE), "--rubric", str(folder / "rubric.yml"), "--out", str(out), "--parallel", "2",
            ],
        )  # fmt: skip
    with (out / "grades.csv").open() as file:
        rows = list(csv.DictReader(file))
    return {
        "result": result,
        "out": out,
        "rows": {row["student_id"]: row for row in rows},
        "order": rows,
        "servers_made": servers_made,
    }


def test_class_grading_exits_zero_and_writes_every_report(graded_class: dict) -> None:
    result, out = graded_class["result"], graded_class["out"]
    assert result.exit_code == 0, result.output
    graded = CLASS[:8]
    assert sorted(p.stem for p in out.glob("*.json")) == sorted(graded)
    assert sorted(p.stem for p in out.glob("*.md") if p.stem != "overview") == sorted(graded)


def test_the_class_keys_share_one_scratch_server_gone_at_the_end(graded_class: dict) -> None:
    """Six keys at least are built (carol to heidi: no key cached before), all on one scratch PostgreSQL, which
    is stopped and deleted with its folder when the keys are done."""
    assert len(graded_class["servers_made"]) == 1, graded_class["servers_made"]
    assert not graded_class["servers_made"][0].parent.exists()


def test_grades_csv_has_one_row_per_student_and_one_column_per_check(graded_class: dict) -> None:
    rows, order = graded_class["rows"], graded_class["order"]
    assert [row["student_id"] for row in order] == CLASS
    columns = list(order[0])
    assert columns[:7] == ["student_id", "stack", "score", "max_score", "percent", "copied_from", "error"]
    assert {"lake_layout", "raw_rows", "figures.mart_sales_overview", "independent_work"} <= set(columns)
    assert "cloud_bucket_private" not in columns  # disabled in the rubric file
    for finished in ("alice", "bob", "carol", "dave"):
        assert rows[finished]["score"] == rows[finished]["max_score"], rows[finished]
        assert float(rows[finished]["max_score"]) >= 100 and rows[finished]["data_tests"] == "20"  # reweighted
    assert rows["erin"]["copied_from"] == "alice" and rows["erin"]["independent_work"] == "0"
    assert rows["erin"]["data_tests"] == "20"  # alice's data is consistent: only copy detection tells
    for stopped in ("frank", "grace"):
        row = rows[stopped]
        assert (row["lake_layout"], row["raw_rows"], row["data_tests"]) == ("10", "0", "0")
    assert (rows["heidi"]["raw_rows"], rows["heidi"]["marts_models"], rows["heidi"]["data_tests"]) == ("15", "0", "0")
    for missing in ("ivan", "judy"):
        assert "unknown stack" in rows[missing]["error"] and rows[missing]["score"] == ""


def test_overview_shows_the_distribution_copies_and_missing_students(graded_class: dict) -> None:
    overview = (graded_class["out"] / "overview.md").read_text()
    assert "8 of 10 students graded" in overview
    counts = [int(n) for n in re.findall(r"^\| \d+-\d+ % \| (\d+) \|", overview, flags=re.MULTILINE)]
    assert len(counts) == 10 and sum(counts) == 8 and counts[-1] == 4
    assert "`erin`: figures equal the key of alice" in overview
    assert "`ivan`: unknown stack" in overview
