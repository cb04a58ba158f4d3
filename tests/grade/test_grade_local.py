"""Grading local stacks: full marks for a correct stack, identical reports, no writes, and mutations that each
lose exactly the points of the checks they break."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from pipeline.grade.grader import Grade, grade_stack, load_other_keys, write_reports
from pipeline.grade.key import Key, build_key, canonical_json, key_path
from pipeline.grade.rubric import load_rubric
from pipeline.settings import Settings
from pipeline.variant import variant_seed
from tests.helpers.grading import SALT, SCALE, Cohort, copy_stack, rubric_without, tree_digest

pytestmark = pytest.mark.slow

COURSE_MARTS = (
    "mart_sales_overview",
    "mart_daily_orders",
    "mart_product_performance",
    "mart_customer_ltv",
    "mart_conversion_funnel",
    "mart_crm_conversion",
)


def figure_checks(key: Key) -> set[str]:
    """One figures check per mart of the key (marts added to the dbt project are graded too)."""
    return {f"figures.{mart}" for mart in key["marts"]}


def failed(grade: Grade) -> set[str]:
    return {check.id for check in grade.checks if check.passed is False}


def detail(grade: Grade, check_id: str) -> str:
    return next(check.detail for check in grade.checks if check.id == check_id)


@pytest.fixture(scope="module")
def graded_twice(cohort: Cohort, alice: Settings, alice_key: Key, bob_key: Key, tmp_path_factory) -> dict:
    """alice graded twice with the default rubric (dbt data tests included), and her files around it."""
    before = tree_digest(alice.home)
    others = load_other_keys(cohort.keys_dir, "alice")
    reports = []
    for run in ("first", "second"):
        grade = grade_stack(alice, alice_key, load_rubric(), others)
        reports.append((grade, *write_reports(grade, tmp_path_factory.mktemp(run))))
    return {"before": before, "after": tree_digest(alice.home), "reports": reports}


def test_correct_stack_gets_full_marks(graded_twice: dict, alice_key: Key) -> None:
    grade = graded_twice["reports"][0][0]
    assert grade.score == grade.max_score >= 100, [c for c in grade.checks if not c.passed]
    assert grade.copied_from == []
    applicable = {c.id for c in grade.checks if c.passed is not None}
    assert {f"figures.{mart}" for mart in COURSE_MARTS} <= figure_checks(alice_key)
    expected = {"lake_layout", "raw_rows", "marts_models", "data_tests", "independent_work"} | figure_checks(alice_key)
    assert expected <= applicable
    assert {c.id for c in grade.checks if c.passed is None} == {
        "cloud_bucket_private",
        "cloud_integration_scope",
        "cloud_warehouses_suspend",
        "cloud_resource_monitor",
    }
    assert "data tests passed" in detail(grade, "data_tests")


def test_same_stack_graded_twice_gives_identical_reports(graded_twice: dict) -> None:
    (_, json_1, md_1), (_, json_2, md_2) = graded_twice["reports"]
    first, second = json.loads(json_1.read_text()), json.loads(json_2.read_text())
    assert first.pop("graded_at") and second.pop("graded_at")
    assert first == second
    assert set(first) >= {"stack", "score", "max_score", "checks"}
    assert set(first["checks"][0]) >= {"id", "title", "points", "max_points", "passed", "detail"}
    without_time = [[line for line in md.read_text().splitlines() if "Graded at" not in line] for md in (md_1, md_2)]
    assert without_time[0] == without_time[1]


def test_grading_never_writes_to_the_stack(graded_twice: dict) -> None:
    assert graded_twice["before"] == graded_twice["after"]
    assert any(name.endswith(".duckdb") for name in graded_twice["before"])


def test_grading_holds_no_write_lock(alice: Settings, alice_key: Key) -> None:
    """The warehouse is opened read-only: another reader (the dashboard) may have it open at the same time."""
    other_reader = duckdb.connect(str(alice.warehouse.path), read_only=True)
    try:
        grade = grade_stack(alice, alice_key, rubric_without("data_tests"))
    finally:
        other_reader.close()
    assert grade.score == grade.max_score


# -- mutations -----------------------------------------------------------------------------------------------------
def run_sql(statement: str) -> Callable[[Settings, Settings], None]:
    def mutate(stack: Settings, _other: Settings) -> None:
        with duckdb.connect(str(stack.warehouse.path)) as con:
            con.execute(statement)

    return mutate


def swap_in_other_warehouse(stack: Settings, other: Settings) -> None:
    stack.warehouse.path.write_bytes(other.warehouse.path.read_bytes())


MUTATIONS = {
    # name: (mutation, checks it must break, words the first failing check's detail must hold)
    "raw rows deleted": (run_sql("DELETE FROM RAW.orders WHERE id % 10 = 0"), {"raw_rows"}, "RAW.orders: expected"),
    "mart dropped": (
        run_sql("DROP TABLE MARTS.mart_crm_conversion"),
        {"marts_models", "figures.mart_crm_conversion"},
        "MARTS.mart_crm_conversion missing",
    ),
    "one country's revenue +1 %": (
        run_sql(
            "UPDATE MARTS.mart_sales_overview SET total_revenue = round(total_revenue * 1.01, 2) "
            "WHERE country_code = (SELECT min(country_code) FROM MARTS.mart_sales_overview)"
        ),
        {"figures.mart_sales_overview"},
        "total_revenue [country_code=",
    ),
    "one customer's RFM segment changed": (
        run_sql(
            "UPDATE MARTS.mart_customer_ltv SET rfm_segment = (SELECT max(rfm_segment) FROM MARTS.mart_customer_ltv) "
            "WHERE customer_key = (SELECT min(customer_key) FROM MARTS.mart_customer_ltv "
            "  WHERE rfm_segment <> (SELECT max(rfm_segment) FROM MARTS.mart_customer_ltv))"
        ),
        {"figures.mart_customer_ltv"},
        "[rfm_segment=",
    ),
    "another student's warehouse": (
        swap_in_other_warehouse,
        {"raw_rows", "independent_work", "every figures check"},
        "equal the answer key of bob",
    ),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_mutation_loses_exactly_its_checks(
    name: str, cohort: Cohort, alice: Settings, bob: Settings, alice_key: Key, bob_key: Key, tmp_path: Path
) -> None:
    """Data tests are left out here (each would cost a dbt run); `test_data_tests_fail_on_inconsistent_marts`
    grades them on a mutated stack."""
    mutate, broken, words = MUTATIONS[name]
    if "every figures check" in broken:
        broken = (broken - {"every figures check"}) | figure_checks(alice_key)
    rubric = rubric_without("data_tests")
    intact = grade_stack(alice, alice_key, rubric, load_other_keys(cohort.keys_dir, "alice"))
    mutated = copy_stack(alice, tmp_path)
    mutate(mutated, bob)
    grade = grade_stack(mutated, alice_key, rubric, load_other_keys(cohort.keys_dir, "alice"))

    assert intact.score == intact.max_score
    assert failed(grade) == broken
    points = {c.id: c.max_points for c in grade.checks}
    assert grade.score == intact.score - sum(points[i] for i in broken)
    details = " ".join(c.detail for c in grade.checks if c.passed is False)
    assert words in details
    assert "expected" in details or "missing" in details
    assert grade.copied_from == (["bob"] if name == "another student's warehouse" else [])


def test_figure_detail_names_expected_and_found_money(alice: Settings, alice_key: Key, tmp_path: Path) -> None:
    mutated = copy_stack(alice, tmp_path)
    with duckdb.connect(str(mutated.warehouse.path)) as con:
        country, revenue = con.execute(
            "SELECT country_code, sum(total_revenue) FROM MARTS.mart_sales_overview GROUP BY 1 ORDER BY 1 LIMIT 1"
        ).fetchone()
        con.execute(
            "UPDATE MARTS.mart_sales_overview SET total_revenue = total_revenue + 0.01 "
            f"WHERE country_code = '{country}' AND sale_date = (SELECT min(sale_date) FROM MARTS.mart_sales_overview "
            f"WHERE country_code = '{country}')"
        )
    grade = grade_stack(mutated, alice_key, rubric_without("data_tests"))
    text = detail(grade, "figures.mart_sales_overview")
    assert f"total_revenue [country_code={country}]: expected {revenue:,.2f}" in text  # to the cent
    assert [c.where for c in grade.checks if c.id == "figures.mart_sales_overview"] == [
        "MARTS.mart_sales_overview (dbt/models/marts/mart_sales_overview.sql)"
    ]


def test_data_tests_fail_on_inconsistent_marts(alice: Settings, alice_key: Key, tmp_path: Path) -> None:
    """The repo's reconciliation tests catch a mart whose revenue no longer matches the facts."""
    mutated = copy_stack(alice, tmp_path)
    run_sql("UPDATE MARTS.mart_sales_overview SET total_revenue = total_revenue * 1.01")(mutated, mutated)
    rubric = load_rubric()
    only_tests = rubric.model_copy(
        update={"checks": [e.model_copy(update={"enabled": e.id == "data_tests"}) for e in rubric.checks]}
    )
    grade = grade_stack(mutated, alice_key, only_tests)
    assert [(c.id, c.passed) for c in grade.checks] == [("data_tests", False)]
    assert "data test(s) failed" in grade.checks[0].detail and grade.score == 0


def test_stack_without_warehouse_is_graded_not_crashed(alice: Settings, alice_key: Key, tmp_path: Path) -> None:
    bare = copy_stack(alice, tmp_path)
    bare.warehouse.path.unlink()
    grade = grade_stack(bare, alice_key, rubric_without("data_tests"))
    assert "lake_layout" not in failed(grade) and "raw_rows" in failed(grade)
    assert "no warehouse at" in detail(grade, "raw_rows")


# -- variants and keys ---------------------------------------------------------------------------------------------
def test_two_stacks_get_different_data_and_keys(alice: Settings, bob: Settings, alice_key: Key, bob_key: Key) -> None:
    assert alice_key["seed"] == variant_seed("alice", SALT) != bob_key["seed"] == variant_seed("bob", SALT)
    revenue = [k["marts"]["mart_sales_overview"]["figures"]["totals"]["total_revenue"] for k in (alice_key, bob_key)]
    assert revenue[0] != revenue[1]
    assert (
        alice_key["marts"]["mart_customer_ltv"]["figures"]["by"]["rfm_segment"]
        != (bob_key["marts"]["mart_customer_ltv"]["figures"]["by"]["rfm_segment"])
    )
    sums = []
    for stack in (alice, bob):
        with duckdb.connect(str(stack.warehouse.path), read_only=True) as con:
            sums.append(con.execute("SELECT sum(line_total), count(*) FROM RAW.order_items").fetchone())
    assert sums[0] != sums[1]


def test_key_rebuilt_from_scratch_is_byte_identical(
    cohort: Cohort, alice_key: Key, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rebuild is built from the dbt parse of the first key this process built (`alice_key`, with a parse of
    its own): dbt does not parse again, and the key is the same bytes."""
    from pipeline.transform import runner

    dbt_commands: list[tuple[str, bool]] = []  # (command, given a parsed project)
    run_dbt = runner.invoke

    def counted(args: list[str], env: dict[str, str], progress=None, manifest=None):
        dbt_commands.append((args[0], manifest is not None))
        return run_dbt(args, env, progress, manifest)

    monkeypatch.setattr(runner, "invoke", counted)
    cached = key_path(cohort.keys_dir, "alice").read_bytes()
    rebuilt = canonical_json(build_key("alice", variant_seed("alice", SALT), SCALE)).encode()
    assert dbt_commands == [("build", True)]
    assert rebuilt == cached
    assert b"graded_at" not in cached
    # No load or extraction time is scored (model columns such as a live mart's `last_loaded_at` are only listed).
    scored = json.dumps(json.loads(cached)["marts"])
    assert "extracted_at" not in scored and "_loaded_at" not in scored


def test_blocks_of_one_server_for_keys_share_it_until_the_last_ends() -> None:
    """A block inside another (a key built alone during a class's keys) and a block that outlives the one that
    opened the server both keep it: it goes with the last block."""
    from pipeline.grade.key import one_server_for_keys

    class_keys = one_server_for_keys()
    server = class_keys.__enter__()
    with one_server_for_keys() as inner:
        assert inner is server
    assert server.root.is_dir()  # the inner block ended: the class's keys still need the server
    overlapping = one_server_for_keys()
    assert overlapping.__enter__() is server
    class_keys.__exit__(None, None, None)
    assert server.root.is_dir()  # the block that opened it ended first
    overlapping.__exit__(None, None, None)
    assert not server.root.exists()
    with one_server_for_keys() as later:
        assert later is not server
