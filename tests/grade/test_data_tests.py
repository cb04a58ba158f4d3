"""The dbt data tests of a local stack, graded as SQL compiled once by dbt and run on the file attached read-only:
they judge every test as `dbt test` does, a failing test still costs the check's points, and dbt compiles the tests
once per catalog shape, not once per student."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipeline.grade import data_tests
from pipeline.grade.grader import grade_stack, load_other_keys
from pipeline.grade.key import Key
from pipeline.grade.rubric import load_rubric
from pipeline.settings import Settings
from pipeline.transform import DBT_PROJECT_DIR, dbt_env, runner
from pipeline.transform.report import report_from_execution
from tests.helpers.grading import Cohort, copy_stack, tree_digest

pytestmark = pytest.mark.slow


def mutate(stack: Settings, *statements: str) -> None:
    with duckdb.connect(str(stack.warehouse.path)) as con:
        for statement in statements:
            con.execute(statement)


def statuses_by_dbt(stack: Settings, scratch: Path) -> dict[str, str]:
    """`dbt test` itself on the stack (a copy: dbt-duckdb opens the file for writing): test id → status.

    `dbt test`, not `dbt build`: a build skips the tests downstream of a failed one, `dbt test` runs them all."""
    command = [
        "test", "--exclude", "resource_type:unit_test",
        "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR), "--target", "local",
        "--target-path", str(scratch / "target"), "--log-path", str(scratch / "logs"), "--no-write-json",
    ]  # fmt: skip
    returned, errors = runner.invoke(command, dbt_env(stack))
    assert returned is not None and hasattr(returned, "results"), errors
    return {node.unique_id: node.status for node in report_from_execution(returned, "local").nodes}


@pytest.fixture
def dbt_invocations(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[str]]]:
    """Every dbt command the data tests run (a spy around the real in-process runner)."""
    calls: list[list[str]] = []
    invoke = data_tests.runner.invoke

    def spy(args: list[str], env: dict[str, str], progress=None):
        calls.append(args)
        return invoke(args, env, progress)

    monkeypatch.setattr(data_tests.runner, "invoke", spy)
    yield calls


def test_compiled_tests_judge_every_test_as_dbt_does(alice: Settings, tmp_path: Path) -> None:
    """On a stack broken three ways — a revenue that no longer reconciles (fail), an order whose customer does not
    exist (fail), a data-quality rule over its warn threshold (warn, severity warn) — every test gets dbt's status."""
    broken = copy_stack(alice, tmp_path / "stack")
    mutate(
        broken,
        "UPDATE MARTS.mart_sales_overview SET total_revenue = total_revenue * 1.01",
        "UPDATE CORE.fct_orders SET customer_key = -1 WHERE order_key = (SELECT min(order_key) FROM CORE.fct_orders)",
        "UPDATE MARTS.mart_data_quality SET status = 'warn' "
        "WHERE rule_name = (SELECT min(rule_name) FROM MARTS.mart_data_quality)",
    )
    before = tree_digest(broken.home)
    direct = {node.unique_id: node.status for node in data_tests.run_data_tests(broken.warehouse.path)}
    assert tree_digest(broken.home) == before  # attached read-only: not a byte or a timestamp changed

    assert direct == statuses_by_dbt(copy_stack(broken, tmp_path / "dbt"), tmp_path / "dbt-home")
    assert {"pass", "fail", "warn"} <= set(direct.values())
    failing = sorted(test.split(".")[2] for test, status in direct.items() if status == "fail")
    assert any(name.startswith("relationships_fct_orders_customer_key") for name in failing), failing
    assert "assert_revenue_reconciles_across_layers" in failing
    assert direct["test.shopstream.assert_no_quality_rule_warns"] == "warn"


def test_a_failing_data_test_loses_exactly_its_points(cohort: Cohort, alice: Settings, alice_key: Key, tmp_path):
    """An order pointing at a customer who does not exist breaks a relationships test and nothing the other checks
    read (RAW, the models' columns, the marts): the default rubric takes exactly the data tests' points."""
    rubric = load_rubric()
    others = load_other_keys(cohort.keys_dir, "alice")
    intact = grade_stack(alice, alice_key, rubric, others)
    broken = copy_stack(alice, tmp_path)
    mutate(
        broken,
        "UPDATE CORE.fct_orders SET customer_key = -1 WHERE order_key = (SELECT min(order_key) FROM CORE.fct_orders)",
    )
    grade = grade_stack(broken, alice_key, rubric, others)

    assert intact.score == intact.max_score
    assert [c.id for c in grade.checks if c.passed is False] == ["data_tests"]
    data_tests_points = next(c.max_points for c in grade.checks if c.id == "data_tests")
    assert data_tests_points > 0 and grade.score == intact.score - data_tests_points
    detail = next(c.detail for c in grade.checks if c.id == "data_tests")
    assert detail.startswith("1 data test(s) failed: test relationships_fct_orders_customer_key"), detail
    assert "(fail): Got 1 result, configured to fail if != 0" in detail


def test_tests_are_compiled_once_per_catalog_shape(
    alice: Settings, bob: Settings, tmp_path: Path, dbt_invocations: list[list[str]]
) -> None:
    """Stacks with the same relations and columns share one compilation (in memory, then from the cache folder);
    a stack without a mart gets its own, on which the tests of that mart error as they would under dbt."""
    cache = tmp_path / "cache"
    first = data_tests.run_data_tests(alice.warehouse.path, cache)
    compilations = len(dbt_invocations)
    assert compilations <= 1 and len(list(cache.glob("*.json"))) == compilations  # 0: compiled earlier this session
    second = data_tests.run_data_tests(bob.warehouse.path, cache)
    assert len(dbt_invocations) == compilations  # same shape: no dbt
    assert {n.unique_id for n in first} == {n.unique_id for n in second}
    assert all(n.status in ("pass", "warn") for n in first + second)

    without_mart = copy_stack(alice, tmp_path / "stack")
    mutate(without_mart, "DROP TABLE MARTS.mart_crm_conversion")
    results = data_tests.run_data_tests(without_mart.warehouse.path, cache)
    assert [args[0] for args in dbt_invocations[compilations:]] == ["compile"]  # a new shape: compiled once more
    assert data_tests._PARSE_STATE is not None
    last_compile = (Path(data_tests._PARSE_STATE.name) / "logs" / "dbt.log").read_text().rsplit("Running with", 1)[1]
    assert "Unable to do partial parsing" not in last_compile  # dbt's parse of the first shape was reused
    errored = {n.name for n in results if n.status == "error"}
    assert errored and all("mart_crm_conversion" in name for name in errored), errored
    assert all("mart_crm_conversion" in n.message for n in results if n.status == "error")
