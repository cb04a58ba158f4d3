"""A stack built for the churn tests: SF 1 demo data (seed 42) on a fresh database of the session's embedded
PostgreSQL, extracted to its own lake, loaded into its own DuckDB warehouse and built by dbt (real components).

SF 1 rather than the shared `loaded_stack` (SF 0.2): the model's evaluation needs a few hundred customers at the
held-out cut-off to measure a margin that is not noise. The shared stack's warehouse is left alone, so the marts
other suites compare (DuckDB against Snowflake) stay the dbt-built ones.
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from pipeline.extract import extract
from pipeline.generate import generate
from pipeline.load import load
from pipeline.settings import Settings, apply_overrides, local_settings
from pipeline.transform import build
from tests.helpers.source import create_source_database, drop_source_database

CHURN_STACK = "churn"
EXTRACT_DATE = "2026-11-24"


@pytest.fixture(scope="session")
def churn_stack(source_settings: Settings) -> Iterator[Settings]:
    dsn = create_source_database(source_settings)
    settings = apply_overrides(local_settings(CHURN_STACK), dsn=dsn)
    settings.home.mkdir(parents=True, exist_ok=True)
    generate(dsn, scale=1.0, seed=42)
    extract(settings, EXTRACT_DATE)
    assert not load(settings, EXTRACT_DATE).quarantined
    report = build(settings)
    assert report.ok, report.failures
    yield settings
    drop_source_database(dsn)


def rows(settings: Settings, sql: str) -> list[tuple]:
    """Independent SQL on a stack's DuckDB warehouse (read-only, closed at once)."""
    con = duckdb.connect(str(settings.warehouse.path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()
