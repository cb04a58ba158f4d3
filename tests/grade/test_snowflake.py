"""A cloud stack on fakesnow grades to full marks against the key of the data it was loaded from.

The stack is built as in tests/cloud/test_cross_engine_marts.py: a fakesnow server (real HTTP on 127.0.0.1,
Snowflake SQL on DuckDB) whose stage is alice's local lake (`file://` where the cloud has `s3://`), the real
Snowflake loader, then `dbt build --target snowflake`. fakesnow shows one fixed warehouse and has no storage
integrations or resource monitors, so the three Snowflake posture checks are disabled here; the lake is a
directory, so the bucket check does not apply (tests/grade/test_posture.py covers it on moto's S3).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.grade.grader import Grade, grade_stack
from pipeline.grade.key import Key
from pipeline.load import load
from pipeline.naming import SOURCE_TABLES
from pipeline.settings import Settings, apply_overrides, settings_from_outputs
from pipeline.transform import build
from tests.cloud.test_cross_engine_marts import snowflake_query
from tests.helpers.cloud import cloud_outputs, create_snowflake_objects, fakesnow_endpoint, unique_stack
from tests.helpers.grading import EXTRACT_DATE, rubric_without

pytestmark = pytest.mark.slow

POSTURE = ("cloud_integration_scope", "cloud_warehouses_suspend", "cloud_resource_monitor")


def contents(settings: Settings) -> dict[str, list]:
    """Every RAW table and mart, sorted rows: what grading must leave unchanged."""
    query = snowflake_query(settings)
    _, marts = query(
        f"SELECT table_name FROM {settings.warehouse.database}.INFORMATION_SCHEMA.TABLES WHERE table_schema = 'MARTS'"
    )
    relations = [f"RAW.{table}" for table in SOURCE_TABLES] + [f"MARTS.{name}" for (name,) in marts]
    return {relation: sorted(map(str, query(f"SELECT * FROM {relation}")[1])) for relation in relations}


@pytest.fixture(scope="module")
def snowflake_grade(alice: Settings, alice_key: Key, bob_key: Key) -> Iterator[tuple[Grade, dict, dict]]:
    stack = unique_stack()
    with pytest.MonkeyPatch.context() as env, fakesnow_endpoint(env):
        env.setenv("SNOWFLAKE_CONNECT_TIMEOUT", "30")
        settings = apply_overrides(
            settings_from_outputs(stack, cloud_outputs(stack), "test outputs"), lake_uri=alice.lake.uri
        )
        create_snowflake_objects(settings, Path(alice.lake.uri) / "raw")
        load(settings, EXTRACT_DATE)
        build(settings, exclude="resource_type:unit_test")
        before = contents(settings)
        grade = grade_stack(settings, alice_key, rubric_without(*POSTURE), {"alice": alice_key, "bob": bob_key})
        yield grade, before, contents(settings)


def test_snowflake_stack_gets_full_marks(snowflake_grade) -> None:
    grade, _, _ = snowflake_grade
    assert grade.warehouse == "snowflake"
    assert grade.score == grade.max_score > 0, [c for c in grade.checks if not c.passed]
    passed = {c.id for c in grade.checks if c.passed}
    assert {"raw_rows", "staging_models", "marts_models", "figures.mart_sales_overview", "data_tests"} <= passed
    assert grade.copied_from == []


def test_grading_leaves_snowflake_tables_unchanged(snowflake_grade) -> None:
    _, before, after = snowflake_grade
    assert before == after and all(before[f"RAW.{table}"] for table in SOURCE_TABLES)
