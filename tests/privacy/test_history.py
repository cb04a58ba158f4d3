"""SCD2 history (dbt snapshots on DuckDB): a plan change in PostgreSQL, the road rerun, two versions with the right
validity ranges, and revenue reported by the plan the customer had when they ordered."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import psycopg
import pytest

from pipeline.extract import extract
from pipeline.generate import generate
from pipeline.load import load
from pipeline.settings import ENV_PG_DSN, Settings, resolve_settings
from pipeline.transform import build
from tests.helpers.source import create_source_database, drop_source_database
from tests.privacy.scan import warehouse_rows

DAY_1, DAY_2 = "2026-11-23", "2026-11-24"
COMPLETED = "('paid', 'shipped', 'delivered')"


@pytest.fixture(scope="module")
def history_stack(source_settings: Settings) -> Iterator[tuple[Settings, str]]:
    dsn = create_source_database(source_settings)
    with pytest.MonkeyPatch.context() as env:
        env.setenv(ENV_PG_DSN, dsn)
        settings = resolve_settings("history", create=True)
        generate(dsn, scale=0.05, seed=3)
        extract(settings, DAY_1)
        load(settings, DAY_1)
        build(settings)
        yield settings, dsn
    drop_source_database(dsn)


def _by_plans(settings: Settings) -> dict[tuple[str, str], Decimal]:
    rows = warehouse_rows(
        str(settings.warehouse.path),
        "SELECT plan_at_order, current_plan, sum(total_revenue) FROM MARTS.mart_revenue_by_plan GROUP BY 1, 2",
    )
    return {(plan, current): revenue for plan, current, revenue in rows}


def test_plan_change_gives_two_versions_and_revenue_by_plan_at_order_time(history_stack) -> None:
    settings, dsn = history_stack
    with psycopg.connect(dsn) as conn:
        # A freemium customer with completed orders before and after their last update; they upgrade at the
        # first order after it (that order and later ones belong to the new plan).
        user_id, old_updated_at, change_at = conn.execute(
            f"""
            SELECT u.id, u.updated_at, min(o.created_at) FILTER (WHERE o.created_at > u.updated_at)
            FROM users u JOIN orders o ON o.user_id = u.id AND o.status IN {COMPLETED}
            WHERE u.plan_type = 'freemium'
            GROUP BY u.id, u.updated_at
            HAVING count(*) FILTER (WHERE o.created_at > u.updated_at) >= 1
               AND count(*) FILTER (WHERE o.created_at <= u.updated_at) >= 1
            ORDER BY u.id LIMIT 1
            """
        ).fetchone()
        before, after = (
            conn.execute(
                f"""SELECT coalesce(sum(i.line_total), 0) FROM orders o JOIN order_items i ON i.order_id = o.id
                    WHERE o.user_id = %s AND o.status IN {COMPLETED} AND (o.created_at >= %s) = %s""",
                [user_id, change_at, side],
            ).fetchone()[0]
            for side in (False, True)
        )
        assert before > 0 and after > 0
    first = _by_plans(settings)

    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE users SET plan_type = 'enterprise', updated_at = %s WHERE id = %s", [change_at, user_id])
    extract(settings, DAY_2)
    load(settings, DAY_2)
    build(settings)

    versions = warehouse_rows(
        str(settings.warehouse.path),
        f"SELECT plan_type, dbt_valid_from, dbt_valid_to FROM CORE.snp_users WHERE user_id = {user_id} "
        "ORDER BY dbt_valid_from",
    )
    assert versions == [("freemium", old_updated_at, change_at), ("enterprise", change_at, None)]
    others = warehouse_rows(
        str(settings.warehouse.path),
        f"SELECT count(*), count(DISTINCT user_id) FROM CORE.snp_users WHERE user_id <> {user_id}",
    )
    assert others[0][0] == others[0][1]  # nobody else changed: one version each

    second = _by_plans(settings)
    assert sum(second.values()) == sum(first.values())
    # Orders before the upgrade stay freemium revenue (now of an enterprise customer); later ones are enterprise.
    assert second.get(("freemium", "enterprise"), 0) - first.get(("freemium", "enterprise"), 0) == before
    assert second.get(("enterprise", "enterprise"), 0) - first.get(("enterprise", "enterprise"), 0) == after
    assert first.get(("freemium", "freemium"), 0) - second.get(("freemium", "freemium"), 0) == before + after
