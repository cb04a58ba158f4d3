"""The statements dbt's post-hooks run on Snowflake, rendered by dbt itself for the snowflake target (no account
needed to render them). What they do — masking a value, hiding a row — only a real Snowflake account can show:
fakesnow accepts the tags and ignores them, and has no row access policies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.privacy import inventory
from pipeline.transform import DBT_PROJECT_DIR

DBT = str(Path(sys.executable).with_name("dbt"))


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    target = tmp_path_factory.mktemp("governance")
    env = {**os.environ, "SHOPSTREAM_DBT_TARGET": "snowflake", "SHOPSTREAM_SF_DATABASE": "SHOPSTREAM_ALICE"}
    env.pop("SNOWFLAKE_HOST", None)
    result = subprocess.run(
        [DBT, "run-operation", "governance_plan", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
         str(DBT_PROJECT_DIR), "--target", "snowflake", "--target-path", str(target / "t"), "--log-path",
         str(target / "l"), "--quiet"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    statements: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            statements.setdefault(entry["model"], []).append(entry["sql"])
    return statements


def test_every_tagged_column_gets_its_tag(plan: dict[str, list[str]]) -> None:
    expected = {
        (c.relation, c.column, c.sensitivity)
        for c in inventory.personal_columns()
        if c.layer in ("STAGING", "CORE", "MARTS")
    }
    tagged = set()
    for model, statements in plan.items():
        for sql in statements:
            if "PII_SENSITIVITY" in sql:
                column = sql.split(" modify column ")[1].split(" ")[0]
                tagged.add((model, column, sql.rsplit("= '", 1)[1].rstrip("'")))
    assert tagged == expected
    assert (
        "alter table SHOPSTREAM_ALICE.MARTS.mart_customer_ltv modify column email set tag "
        "SHOPSTREAM_ALICE.CORE.PII_SENSITIVITY = 'sensitive'" in plan["mart_customer_ltv"]
    )
    assert (
        "alter view SHOPSTREAM_ALICE.STAGING.stg_users modify column email set tag "
        "SHOPSTREAM_ALICE.CORE.PII_SENSITIVITY = 'sensitive'" in plan["stg_users"]
    )


def test_financial_columns_are_tagged_for_the_junior_analyst_policy(plan: dict[str, list[str]]) -> None:
    financial = {
        (m, s.split(" modify column ")[1].split(" ")[0]) for m, ss in plan.items() for s in ss if ".FINANCIAL" in s
    }
    assert financial == set(inventory.financial_columns())
    assert ("mart_sales_overview", "total_margin") in financial and (
        "mart_revenue_by_plan",
        "total_revenue",
    ) in financial


def test_row_access_policies_follow_the_columns(plan: dict[str, list[str]]) -> None:
    def policy(model: str) -> list[str]:
        return [s for s in plan.get(model, []) if "row access policy" in s]

    assert policy("mart_sales_overview") == [
        "alter table SHOPSTREAM_ALICE.MARTS.mart_sales_overview add row access policy "
        "SHOPSTREAM_ALICE.CORE.EU_ONLY on (country_code)"
    ]
    assert policy("mart_product_performance") == [
        "alter table SHOPSTREAM_ALICE.MARTS.mart_product_performance add row access policy "
        "SHOPSTREAM_ALICE.CORE.MERCHANT_ROWS on (merchant_id)"
    ]
    assert policy("mart_conversion_funnel") == []  # sessions carry neither a country nor a merchant
