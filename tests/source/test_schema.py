"""The source schema's constraints reject bad rows, on a real embedded PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from pipeline.naming import SOURCE_TABLES
from pipeline.source import table_counts
from pipeline.source.database import apply_schema

LINE = "INSERT INTO order_items (order_id, product_id, quantity, unit_price, line_total) VALUES "


@pytest.fixture
def conn(source_database: Callable[[], str]) -> Iterator[psycopg.Connection]:
    """A connection to a fresh database holding one user, one product and one order (each with id 1)."""
    with psycopg.connect(source_database(), autocommit=True) as connection:
        connection.execute("INSERT INTO users (email, country) VALUES ('ada@example.com', 'FR')")
        connection.execute(
            "INSERT INTO products (merchant_id, name, category, price) VALUES (1, 'Lamp', 'Home', 19.99)"
        )
        connection.execute(
            "INSERT INTO orders (user_id, total_amount, status, country, payment_method)"
            " VALUES (1, 39.98, 'paid', 'FR', 'stripe')"
        )
        yield connection


def test_a_valid_order_line_is_accepted(conn: psycopg.Connection) -> None:
    conn.execute(LINE + "(1, 1, 2, 19.99, 39.98)")
    assert conn.execute("SELECT line_total FROM order_items").fetchone()[0] == Decimal("39.98")


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param(
            LINE + "(1, 1, 0, 19.99, 0)",
            id="quantity-zero",
        ),
        pytest.param(
            LINE + "(1, 1, 2, 19.99, 40)",
            id="line-total-mismatch",
        ),
        pytest.param(
            "INSERT INTO orders (user_id, total_amount, status, country, payment_method)"
            " VALUES (1, -5, 'paid', 'FR', 'stripe')",
            id="negative-amount",
        ),
        pytest.param(
            "INSERT INTO orders (user_id, total_amount, status, country, payment_method)"
            " VALUES (1, 5, 'lost', 'FR', 'stripe')",
            id="unknown-status",
        ),
        pytest.param("UPDATE products SET price = -1", id="negative-price"),
        pytest.param("INSERT INTO users (email, country, plan_type) VALUES ('b@example.com', 'FR', 'gold')", id="plan"),
        pytest.param(
            "INSERT INTO crm_contacts (email, source, converted) VALUES ('c@example.com', 'organic', true)",
            id="converted-without-date",
        ),
        pytest.param(
            "INSERT INTO events (user_id, event_type) VALUES (1, 'scroll')",
            id="unknown-event-type",
        ),
    ],
)
def test_bad_rows_are_rejected(conn: psycopg.Connection, statement: str) -> None:
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(statement)


def test_an_order_of_an_unknown_user_is_rejected(conn: psycopg.Connection) -> None:
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        conn.execute(
            "INSERT INTO orders (user_id, total_amount, status, country, payment_method)"
            " VALUES (99, 5, 'paid', 'FR', 'stripe')"
        )


def test_applying_the_schema_again_keeps_the_rows(conn: psycopg.Connection) -> None:
    dsn = make_conninfo(conn.info.dsn, password=conn.info.password)  # info.dsn leaves the password out
    apply_schema(dsn)
    apply_schema(dsn)
    counts = table_counts(dsn)
    assert list(counts) == list(SOURCE_TABLES)
    assert counts == {"users": 1, "products": 1, "orders": 1, "order_items": 0, "events": 0, "crm_contacts": 0}
