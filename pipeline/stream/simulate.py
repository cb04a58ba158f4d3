"""The order simulator: each simulated minute brings 3 to 20 orders with their lines, stock and web sessions.

Every order is one transaction: stock is decremented with `UPDATE … WHERE stock_quantity >= q`, which PostgreSQL
re-checks after waiting for a concurrent writer's row lock, so two generators can never sell the same unit twice.
Lines are locked in product order, so two orders sharing products cannot deadlock. An order whose stock is short
rolls its decrements back and is stored as cancelled with the reason. A minute's orders and the clock's move to the
next minute commit together, so a killed simulator resumes exactly after the last minute it finished.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import psycopg

from pipeline.generate.pools import DEVICES, PAYMENT_METHODS
from pipeline.rows import one_row

ORDERS_PER_MINUTE = (3, 20)
LINES_PER_ORDER = (1, 3)
QUANTITY = (1, 3)
BROWSE_ONLY_SESSIONS = (0, 4)  # visitors who leave without buying, per minute
SHIP_AFTER = timedelta(hours=1)  # paid orders ship one simulated hour later
SHIPPED_PER_MINUTE = 5


@dataclass(frozen=True)
class Catalog:
    """What the simulator picks from: customers (id, country) and products (id, price), read once."""

    users: list[tuple[int, str]]
    products: list[tuple[int, Decimal]]

    @classmethod
    def read(cls, conn: psycopg.Connection) -> Catalog:
        users = conn.execute("SELECT id, country FROM users WHERE is_active ORDER BY id").fetchall()
        products = conn.execute("SELECT id, price FROM products ORDER BY id").fetchall()
        conn.commit()
        return cls(users=users, products=products)


@dataclass(frozen=True)
class OrderOutcome:
    order_id: int
    accepted: bool
    lines: tuple[tuple[int, int], ...]  # (product_id, quantity)


class ChangeLog:
    """Rows written in the current transaction, recorded in `stream_changes` before it commits."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, int]] = []

    def add(self, table: str, row_id: int) -> None:
        self.rows.append((table, row_id))

    def flush(self, conn: psycopg.Connection) -> None:
        if self.rows:
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO stream_changes (table_name, row_id) VALUES (%s, %s)", self.rows)
            self.rows.clear()


def place_order(
    conn: psycopg.Connection,
    user_id: int,
    country: str,
    payment_method: str,
    lines: list[tuple[int, Decimal, int]],
    at: datetime,
    changes: ChangeLog,
) -> OrderOutcome:
    """Insert one order inside the caller's transaction; `lines` are (product_id, unit_price, quantity).

    Stock is taken for every line or for none: a short line cancels the order (status `cancelled`, reason
    recorded) and leaves stock untouched.
    """
    lines = sorted(lines)  # one lock order for every transaction: no deadlocks between concurrent orders
    short: tuple[int, int, int] | None = None
    with conn.transaction():  # a savepoint: undone as a whole when a line is short
        for product_id, _, quantity in lines:
            taken = conn.execute(
                "UPDATE products SET stock_quantity = stock_quantity - %s, updated_at = %s"
                " WHERE id = %s AND stock_quantity >= %s RETURNING id",
                (quantity, at, product_id, quantity),
            ).fetchone()
            if taken is None:
                (available,) = one_row(conn.execute("SELECT stock_quantity FROM products WHERE id = %s", (product_id,)))
                short = (product_id, quantity, available)
                raise psycopg.Rollback()  # undoes this order's decrements only; the savepoint swallows it
    if short is None:
        for product_id, _, _ in lines:
            changes.add("products", product_id)
    total = sum((price * quantity for _, price, quantity in lines), Decimal("0.00"))
    status = "paid" if short is None else "cancelled"
    (order_id,) = one_row(
        conn.execute(
            "INSERT INTO orders (user_id, created_at, updated_at, total_amount, status, country, payment_method)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (user_id, at, at, total, status, country, payment_method),
        )
    )
    changes.add("orders", order_id)
    for product_id, price, quantity in lines:
        (item_id,) = one_row(
            conn.execute(
                "INSERT INTO order_items (order_id, product_id, quantity, unit_price, line_total)"
                " VALUES (%s, %s, %s, %s, %s) RETURNING id",
                (order_id, product_id, quantity, price, price * quantity),
            )
        )
        changes.add("order_items", item_id)
    if short is not None:
        product_id, requested, available = short
        conn.execute(
            "INSERT INTO order_cancellations (order_id, product_id, reason, requested, available, cancelled_at)"
            " VALUES (%s, %s, 'out_of_stock', %s, %s, %s)",
            (order_id, product_id, requested, available, at),
        )
        changes.add("order_cancellations", order_id)
        changes.add("products", product_id)  # the short product's stock level travels with its stock-out
    return OrderOutcome(order_id, short is None, tuple((p, q) for p, _, q in lines))


@dataclass
class MinuteResult:
    minute: datetime
    orders: list[OrderOutcome]


def simulate_minute(conn: psycopg.Connection, catalog: Catalog, minute: datetime, seed: int) -> MinuteResult:
    """One simulated minute in one transaction: orders, sessions, shipments, and the clock moved past it.

    The random choices depend only on (seed, minute), so a given seed and clock give the same orders.
    """
    rng = random.Random(f"{seed}:{minute.isoformat()}")
    changes = ChangeLog()
    outcomes: list[OrderOutcome] = []
    with conn.transaction():
        for _ in range(rng.randint(*ORDERS_PER_MINUTE)):
            at = minute + timedelta(seconds=rng.randrange(60))
            user_id, country = rng.choice(catalog.users)
            chosen = rng.sample(catalog.products, k=min(rng.randint(*LINES_PER_ORDER), len(catalog.products)))
            lines = [(product_id, price, rng.randint(*QUANTITY)) for product_id, price in chosen]
            payment = _weighted(rng, PAYMENT_METHODS)
            outcome = place_order(conn, user_id, country, payment, lines, at, changes)
            outcomes.append(outcome)
            _session_events(conn, rng, changes, user_id, at, outcome)
        for _ in range(rng.randint(*BROWSE_ONLY_SESSIONS)):
            user_id, _country = rng.choice(catalog.users)
            _session_events(conn, rng, changes, user_id, minute + timedelta(seconds=rng.randrange(60)), None)
        _ship_paid_orders(conn, minute, changes)
        changes.flush(conn)
        conn.execute(
            "UPDATE sim_clock SET sim_time = %s, updated_at = clock_timestamp()", (minute + timedelta(minutes=1),)
        )
    return MinuteResult(minute, outcomes)


def _session_events(
    conn: psycopg.Connection,
    rng: random.Random,
    changes: ChangeLog,
    user_id: int,
    at: datetime,
    outcome: OrderOutcome | None,
) -> None:
    """The web session around an order (or a visit without one): views, carts, checkout, purchase."""
    session = {"session_id": f"live-{at:%Y%m%d%H%M%S}-{rng.randrange(10**6):06d}", "device": _weighted(rng, DEVICES)}
    start = at - timedelta(seconds=rng.randint(30, 300))
    steps: list[tuple[str, dict]] = [("page_view", {"page_url": "/"})]
    if outcome is not None:
        for product_id, quantity in outcome.lines:
            steps.append(("page_view", {"page_url": f"/products/{product_id}"}))
            steps.append(("add_to_cart", {"product_id": product_id, "quantity": quantity}))
        steps.append(("checkout_start", {}))
        if outcome.accepted:
            steps.append(("purchase", {"order_id": outcome.order_id}))
    rows = [
        (user_id, event_type, start + (at - start) * i / max(len(steps) - 1, 1), json.dumps({**session, **detail}))
        for i, (event_type, detail) in enumerate(steps)
    ]
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO events (user_id, event_type, event_ts, metadata) VALUES (%s, %s, %s, %s) RETURNING id",
            rows,
            returning=True,
        )
        while True:
            changes.add("events", one_row(cur)[0])
            if not cur.nextset():
                break


def _ship_paid_orders(conn: psycopg.Connection, minute: datetime, changes: ChangeLog) -> None:
    """Orders paid more than an hour (simulated) ago ship: the status changes the stream must carry too."""
    shipped = conn.execute(
        "UPDATE orders SET status = 'shipped', updated_at = %s WHERE id IN ("
        "  SELECT o.id FROM orders o JOIN stream_changes c ON c.table_name = 'orders' AND c.row_id = o.id"
        "  WHERE o.status = 'paid' AND o.created_at < %s ORDER BY o.id LIMIT %s FOR UPDATE OF o SKIP LOCKED)"
        " RETURNING id",
        (minute, minute - SHIP_AFTER, SHIPPED_PER_MINUTE),
    ).fetchall()
    for (order_id,) in shipped:
        changes.add("orders", order_id)


def _weighted(rng: random.Random, choices: tuple[tuple[str, float], ...]) -> str:
    labels, weights = zip(*choices, strict=True)
    return rng.choices(labels, weights=weights)[0]
