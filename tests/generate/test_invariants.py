"""Every promise of the demo data, checked with SQL on one generated database (SF 0.5, seed 11)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from pipeline.generate import generate
from pipeline.settings import Settings
from tests.helpers.source import create_source_database, drop_source_database

SCALE = 0.5
WINDOW = ("2024-01-01", "2026-01-01")


@pytest.fixture(scope="module")
def db(source_settings: Settings) -> Iterator[psycopg.Connection]:
    dsn = create_source_database(source_settings)
    generate(dsn, SCALE, seed=11)
    with psycopg.connect(dsn, autocommit=True) as conn:
        yield conn
    drop_source_database(dsn)


def value(conn: psycopg.Connection, query: str):
    return conn.execute(query).fetchone()[0]


def shares(conn: psycopg.Connection, table: str, column: str) -> dict[str, float]:
    rows = conn.execute(f"SELECT {column}, count(*)::float / sum(count(*)) OVER () FROM {table} GROUP BY 1").fetchall()
    return dict(rows)


# -- money -----------------------------------------------------------------------------------------------------------
def test_line_totals_are_quantity_times_the_product_price(db: psycopg.Connection) -> None:
    assert value(db, "SELECT count(*) FROM order_items WHERE line_total <> quantity * unit_price") == 0
    mismatched = value(
        db, "SELECT count(*) FROM order_items i JOIN products p ON p.id = i.product_id WHERE i.unit_price <> p.price"
    )
    assert mismatched == 0
    assert value(db, "SELECT min(quantity) FROM order_items") >= 1


def test_order_totals_are_the_sum_of_their_lines(db: psycopg.Connection) -> None:
    assert (
        value(db, "SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT FROM order_items i WHERE i.order_id = o.id)")
        == 0
    )
    wrong = value(
        db,
        "SELECT count(*) FROM orders o JOIN (SELECT order_id, sum(line_total) AS s FROM order_items GROUP BY 1) l"
        " ON l.order_id = o.id WHERE o.total_amount <> l.s",
    )
    assert wrong == 0
    items_per_order = value(db, "SELECT count(*)::float / (SELECT count(*) FROM orders) FROM order_items")
    assert 2.6 <= items_per_order <= 3.4  # ~15,000 lines for 5,000 orders at SF1


# -- time ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("users", "created_at"),
        ("users", "updated_at"),
        ("users", "last_login"),
        ("products", "created_at"),
        ("orders", "created_at"),
        ("orders", "updated_at"),
        ("events", "event_ts"),
        ("crm_contacts", "created_at"),
        ("crm_contacts", "converted_at"),
    ],
)
def test_every_timestamp_lies_in_the_fixed_window(db: psycopg.Connection, table: str, column: str) -> None:
    low, high = db.execute(f"SELECT min({column}), max({column}) FROM {table}").fetchone()
    assert str(low) >= WINDOW[0] and str(high) < WINDOW[1]


def test_updates_never_precede_creation(db: psycopg.Connection) -> None:
    for table in ("users", "products", "orders"):
        assert value(db, f"SELECT count(*) FROM {table} WHERE updated_at < created_at") == 0, table
    assert value(db, "SELECT count(*) FROM users WHERE last_login < created_at") == 0


def test_orders_and_events_come_after_their_user_signed_up(db: psycopg.Connection) -> None:
    early_orders = "SELECT count(*) FROM orders o JOIN users u ON u.id = o.user_id WHERE o.created_at <= u.created_at"
    assert value(db, early_orders) == 0
    early_events = "SELECT count(*) FROM events e JOIN users u ON u.id = e.user_id WHERE e.event_ts < u.created_at"
    assert value(db, early_events) == 0


def test_orders_grow_over_time_and_peak_at_weekends(db: psycopg.Connection) -> None:
    by_year = dict(db.execute("SELECT extract(year FROM created_at)::int, count(*) FROM orders GROUP BY 1").fetchall())
    assert by_year[2025] > 1.5 * by_year[2024]
    per_weekday = dict(
        db.execute("SELECT extract(isodow FROM created_at)::int, count(*) FROM orders GROUP BY 1").fetchall()
    )
    weekend = (per_weekday[6] + per_weekday[7]) / 2
    weekdays = sum(per_weekday[d] for d in range(1, 6)) / 5
    assert weekend > 1.1 * weekdays
    december, august = (
        value(db, f"SELECT count(*) FROM orders WHERE extract(month FROM created_at) = {m}") for m in (12, 8)
    )
    assert december > august


# -- distributions ---------------------------------------------------------------------------------------------------
def test_order_statuses_follow_the_5_40_25_25_5_weights(db: psycopg.Connection) -> None:
    observed = shares(db, "orders", "status")
    expected = {"pending": 0.05, "paid": 0.40, "shipped": 0.25, "delivered": 0.25, "cancelled": 0.05}
    assert set(observed) == set(expected)
    for status, share in expected.items():
        assert observed[status] == pytest.approx(share, abs=0.03), status


def test_plans_are_mostly_freemium(db: psycopg.Connection) -> None:
    observed = shares(db, "users", "plan_type")
    assert set(observed) == {"freemium", "premium", "enterprise"}
    assert observed["freemium"] == pytest.approx(0.70, abs=0.06)


def test_value_sets_are_realistic(db: psycopg.Connection) -> None:
    assert set(shares(db, "orders", "payment_method")) == {"stripe", "paypal", "credit_card"}
    countries = shares(db, "users", "country")
    assert len(countries) >= 8 and {"FR", "US", "DE", "GB"} <= set(countries)
    assert all(len(code) == 2 and code.isupper() for code in countries)
    assert len(shares(db, "products", "category")) >= 5
    assert value(db, "SELECT count(DISTINCT email) = count(*) FROM users")
    assert value(db, "SELECT count(*) FROM orders o JOIN users u ON u.id = o.user_id WHERE o.country <> u.country") == 0


# -- events: coherent sessions --------------------------------------------------------------------------------------
def test_every_event_carries_session_and_device_and_its_details(db: psycopg.Connection) -> None:
    assert value(db, "SELECT count(*) FROM events WHERE NOT metadata ?& array['session_id', 'device']") == 0
    assert value(db, "SELECT count(*) FROM events WHERE event_type = 'page_view' AND NOT metadata ? 'page_url'") == 0
    bad_carts = value(
        db,
        "SELECT count(*) FROM events e LEFT JOIN products p ON p.id = (e.metadata->>'product_id')::int"
        " WHERE e.event_type = 'add_to_cart' AND (p.id IS NULL OR (e.metadata->>'quantity')::int < 1)",
    )
    assert bad_carts == 0


def test_each_purchase_is_an_order_of_the_same_user_at_the_same_time(db: psycopg.Connection) -> None:
    purchases = value(db, "SELECT count(*) FROM events WHERE event_type = 'purchase'")
    matched = value(
        db,
        "SELECT count(*) FROM events e JOIN orders o ON o.id = (e.metadata->>'order_id')::int"
        " AND o.user_id = e.user_id AND o.created_at = e.event_ts WHERE e.event_type = 'purchase'",
    )
    assert purchases > 0 and matched == purchases
    assert (
        value(db, "SELECT count(DISTINCT metadata->>'order_id') FROM events WHERE event_type = 'purchase'") == purchases
    )


def test_sessions_walk_the_funnel_in_order_with_drop_off(db: psycopg.Connection) -> None:
    sessions = db.execute(
        """
        SELECT metadata->>'session_id',
               array_agg(event_type ORDER BY event_ts, id),
               count(DISTINCT coalesce(user_id, -1)),
               count(DISTINCT metadata->>'device')
        FROM events GROUP BY 1
        """
    ).fetchall()
    rank = {"page_view": 0, "add_to_cart": 1, "checkout_start": 2, "purchase": 3}
    reached = dict.fromkeys(rank, 0)
    for session_id, steps, users, devices in sessions:
        assert steps[0] == "page_view", session_id
        assert [rank[s] for s in steps] == sorted(rank[s] for s in steps), (session_id, steps)
        assert "purchase" not in steps or "checkout_start" in steps, session_id
        assert users == 1 and devices == 1, session_id
        for step in set(steps):
            reached[step] += 1
    # Fewer sessions at each step of the funnel.
    assert reached["page_view"] > reached["add_to_cart"] > reached["checkout_start"] > reached["purchase"] > 0


def test_some_page_views_are_anonymous(db: psycopg.Connection) -> None:
    anonymous = dict(db.execute("SELECT event_type, count(*) FROM events WHERE user_id IS NULL GROUP BY 1").fetchall())
    assert anonymous.get("page_view", 0) > 0
    assert set(anonymous) == {"page_view"}  # carts and purchases need a logged-in user


# -- churn: who keeps buying ------------------------------------------------------------------------------------------
BUYERS = """
    SELECT o.user_id, u.plan_type, count(*) AS orders, count(*) FILTER (WHERE o.status = 'cancelled') AS cancelled,
           max(o.created_at) >= '2025-10-02' AS still_buying
    FROM orders o JOIN users u ON u.id = o.user_id GROUP BY 1, 2
"""


def still_buying_share(db: psycopg.Connection, where: str) -> float:
    return value(db, f"SELECT avg(still_buying::int)::float FROM ({BUYERS}) b WHERE {where}")


def test_customers_leave_and_paid_plans_stay_longer(db: psycopg.Connection) -> None:
    # Buyers stop buying: many customers placed no order in the last quarter of the window.
    assert still_buying_share(db, "true") < 0.7
    paid, free = still_buying_share(db, "plan_type <> 'freemium'"), still_buying_share(db, "plan_type = 'freemium'")
    assert paid > free + 0.05, (paid, free)


def test_customers_with_cancelled_orders_leave_sooner(db: psycopg.Connection) -> None:
    # Among repeat buyers (so a cancellation had a chance to happen), a cancellation is a sign of friction.
    with_cancellation = still_buying_share(db, "orders >= 2 AND cancelled > 0")
    without = still_buying_share(db, "orders >= 2 AND cancelled = 0")
    assert with_cancellation < without - 0.1, (with_cancellation, without)


# -- CRM ---------------------------------------------------------------------------------------------------------------
def test_converted_contacts_became_users_when_the_user_signed_up(db: psycopg.Connection) -> None:
    converted = value(db, "SELECT count(*) FROM crm_contacts WHERE converted")
    assert 0 < converted < value(db, "SELECT count(*) FROM crm_contacts")
    consistent = value(
        db,
        "SELECT count(*) FROM crm_contacts c JOIN users u ON u.email = c.email"
        " WHERE c.converted AND c.converted_at = u.created_at AND c.created_at <= c.converted_at",
    )
    assert consistent == converted
    leads_that_are_users = "SELECT count(*) FROM crm_contacts c JOIN users u ON u.email = c.email WHERE NOT c.converted"
    assert value(db, leads_that_are_users) == 0
    assert value(db, "SELECT count(*) FROM crm_contacts WHERE converted <> (converted_at IS NOT NULL)") == 0


# -- the database after the load -------------------------------------------------------------------------------------
def test_keys_and_indexes_are_all_back(db: psycopg.Connection) -> None:
    foreign_keys = value(
        db, "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace"
    )
    assert foreign_keys == 4  # orders.user_id, order_items.order_id/product_id, events.user_id
    index_names = {row[0] for row in db.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}
    assert {"idx_events_event_ts", "idx_orders_user_id", "users_email_key", "order_items_pkey"} <= index_names


def test_identity_sequences_continue_after_the_loaded_ids(db: psycopg.Connection) -> None:
    with db.transaction(force_rollback=True):
        new_id = value(db, "INSERT INTO users (email, country) VALUES ('new@example.com', 'FR') RETURNING id")
        assert new_id == value(db, "SELECT max(id) FROM users WHERE email <> 'new@example.com'") + 1
        event_id = value(db, "INSERT INTO events (event_type) VALUES ('page_view') RETURNING id")
        assert event_id > value(db, "SELECT count(*) FROM events") - 1
