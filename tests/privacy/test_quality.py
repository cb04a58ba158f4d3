"""The data-quality rules with thresholds: real PostgreSQL, DuckDB and dbt on data with known defects."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from pipeline.extract import extract
from pipeline.generate import generate
from pipeline.load import load
from pipeline.quality import history_file, read_history, write_report
from pipeline.settings import ENV_PG_DSN, Settings, resolve_settings
from pipeline.transform import TransformError, build
from tests.helpers.source import create_source_database, drop_source_database

SELECT = "+mart_data_quality"
EXCLUDE = "path:tests/reconciliation"  # eager test selection would pull in tests of marts not built here


@pytest.fixture(scope="module")
def quality_stack(source_settings: Settings) -> Iterator[tuple[Settings, str]]:
    dsn = create_source_database(source_settings)
    with pytest.MonkeyPatch.context() as env:
        env.setenv(ENV_PG_DSN, dsn)
        settings = resolve_settings("quality", create=True)
        generate(dsn, scale=0.02, seed=9)
        extract(settings, "2026-11-23")
        load(settings)
        yield settings, dsn
    drop_source_database(dsn)


def _statuses(report) -> dict[str, tuple[int, int, str]]:
    return {r["rule_name"]: (r["checked_rows"], r["failed_rows"], r["status"]) for r in report.rules}


def test_clean_data_passes_and_defects_warn_or_fail_by_threshold(quality_stack) -> None:
    settings, dsn = quality_stack
    build(settings, select=SELECT, exclude=EXCLUDE)
    clean = write_report(settings)
    assert clean is not None and clean.counts == {"pass": 9, "warn": 0, "fail": 0}

    with psycopg.connect(dsn) as conn:
        (users,) = conn.execute("SELECT count(*) FROM users").fetchone()
        (orders,) = conn.execute("SELECT count(*) FROM orders").fetchone()
        # 1 bad email in 20 users = 5 %: above the 1 % warn threshold, not above the 5 % fail one.
        conn.execute("UPDATE users SET email = 'not-an-address' WHERE id = (SELECT min(id) FROM users)")
        # 3 orders updated before they were placed = 3 %: above the 2 % fail threshold.
        conn.execute(
            "UPDATE orders SET updated_at = created_at - interval '1 day' WHERE id IN "
            "(SELECT id FROM orders ORDER BY id LIMIT 3)"
        )
    assert (users, orders) == (20, 100)
    extract(settings, "2026-11-24")
    load(settings)
    with pytest.raises(TransformError, match="assert_no_quality_rule_fails"):
        build(settings, select=SELECT, exclude=EXCLUDE)

    report = write_report(settings)  # the mart is built before its tests run: the report still shows why
    statuses = _statuses(report)
    assert statuses["valid_user_emails"] == (20, 1, "warn")
    assert statuses["coherent_order_dates"] == (100, 3, "fail")
    assert report.counts == {"pass": 7, "warn": 1, "fail": 1}
    text = report.markdown_path.read_text()
    assert "| valid_user_emails | stg_users | email is a well-formed address | 20 | 1 | 5.00% | 1.00% | 5.00% |" in text
    assert "## History (2 runs, latest first)" in text
    history = read_history(settings)
    assert [len(run["rules"]) for run in history] == [9, 9]
    assert history_file(settings).read_text().count("\n") == 2
