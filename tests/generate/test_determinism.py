"""The generator on a real embedded PostgreSQL: reproducible rows, scale, bad input and refusal to mix data."""

from __future__ import annotations

import math
from collections.abc import Callable

import psycopg
import pytest
from psycopg import sql

from pipeline.errors import ShopstreamError
from pipeline.generate import SCALE_ROWS, generate, is_empty
from pipeline.generate.tables import generate_tables
from pipeline.naming import SOURCE_TABLES
from pipeline.source import table_counts


def checksums(dsn: str) -> dict[str, str]:
    """md5 of every row of every table, in id order: equal checksums mean identical tables."""
    with psycopg.connect(dsn) as conn:
        return {
            table: conn.execute(
                sql.SQL("SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) FROM {} AS t").format(sql.Identifier(table))
            ).fetchone()[0]
            for table in SOURCE_TABLES
        }


def test_same_seed_and_scale_give_identical_tables(source_database: Callable[[], str]) -> None:
    first, second, other_seed = source_database(), source_database(), source_database()
    assert generate(first, 0.05, seed=7) == generate(second, 0.05, seed=7)
    assert checksums(first) == checksums(second)

    generate(other_seed, 0.05, seed=8)
    differing = {t for t, digest in checksums(other_seed).items() if digest != checksums(first)[t]}
    assert differing == set(SOURCE_TABLES)


def test_a_fractional_scale_scales_every_table_linearly(source_database: Callable[[], str]) -> None:
    dsn = source_database()
    counts = generate(dsn, 0.01, seed=1)
    # The SF1 sizes (1,000 users, 200 products, 5,000 orders, 10,000 events, 500 contacts) at 1%.
    assert {t: counts[t] for t in SCALE_ROWS} == {
        "users": 10,
        "products": 2,
        "orders": 50,
        "events": 100,
        "crm_contacts": 5,
    }
    assert 50 <= counts["order_items"] <= 100  # 1-5 lines per order, at most one line per product (2 products)
    assert table_counts(dsn) == counts


def test_a_tiny_scale_still_gives_at_least_one_row_per_table(source_database: Callable[[], str]) -> None:
    dsn = source_database()
    counts = generate(dsn, 0.0001, seed=3)
    assert all(count >= 1 for count in counts.values()), counts
    assert table_counts(dsn) == counts


@pytest.mark.parametrize("scale", [0, -1, math.nan, math.inf, "1"])
def test_a_bad_scale_is_refused_before_anything_is_written(source_database: Callable[[], str], scale) -> None:
    dsn = source_database()
    with pytest.raises(ShopstreamError, match="scale must be a number greater than 0"):
        generate(dsn, scale, seed=1)
    assert is_empty(dsn)


def test_a_database_with_data_is_refused_and_left_as_it_was(source_database: Callable[[], str]) -> None:
    dsn = source_database()
    generate(dsn, 0.01, seed=1)
    before = checksums(dsn)
    assert not is_empty(dsn)
    with pytest.raises(ShopstreamError, match=r"already holds data .*shopstream down --purge") as error:
        generate(dsn, 0.01, seed=2)
    assert "\n" not in str(error.value)
    assert checksums(dsn) == before


def test_even_one_foreign_row_makes_the_database_refused(source_database: Callable[[], str]) -> None:
    dsn = source_database()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO crm_contacts (email, source) VALUES ('lead@example.com', 'organic')")
    with pytest.raises(ShopstreamError, match=r"\(crm_contacts\)"):
        generate(dsn, 0.01, seed=1)
    assert table_counts(dsn)["users"] == 0


def test_progress_reports_every_table_up_to_its_total(source_database: Callable[[], str]) -> None:
    reports: list[tuple[str, int, int]] = []
    counts = generate(source_database(), 0.02, seed=5, progress=lambda *report: reports.append(report))
    assert [table for table, done, _ in reports if done == 0] == list(SOURCE_TABLES)
    for table in SOURCE_TABLES:
        done = [d for t, d, total in reports if t == table and total == counts[table]]
        assert done[0] == 0 and done[-1] == counts[table]


def schema_objects(dsn: str) -> list[tuple[str, str]]:
    """Every key and index of the source tables, with its definition."""
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            """SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
               WHERE conrelid = ANY (%(tables)s::regclass[]) AND contype IN ('p', 'u', 'f')
               UNION ALL
               SELECT indexname::text, indexdef FROM pg_indexes WHERE tablename = ANY (%(tables)s::text[])
               ORDER BY 1""",
            {"tables": list(SOURCE_TABLES)},
        ).fetchall()


def test_a_build_failing_after_some_tables_were_copied_leaves_nothing(
    source_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each table is copied while the next one is built: when the build fails after two tables were copied (and
    their keys rebuilt), the error reaches the caller and the whole load rolls back, keys and indexes included."""
    dsn = source_database()
    schema = schema_objects(dsn)
    assert len(schema) > len(SOURCE_TABLES)  # keys and indexes to lose

    def two_tables_then_failure(scale: float, seed: int):
        tables = generate_tables(scale, seed)
        yield next(tables)
        yield next(tables)
        raise MemoryError("no memory left to build the orders")

    monkeypatch.setattr("pipeline.generate.generate_tables", two_tables_then_failure)
    with pytest.raises(MemoryError, match="build the orders"):
        generate(dsn, scale=0.05, seed=1)
    assert is_empty(dsn) and schema_objects(dsn) == schema
    monkeypatch.undo()
    counts = generate(dsn, scale=0.05, seed=1)  # and the next generate loads every table
    assert table_counts(dsn) == counts and schema_objects(dsn) == schema
