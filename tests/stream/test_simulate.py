"""The order simulator on a real PostgreSQL: stock never goes negative, stock moves exactly by accepted orders,
concurrent generators cannot oversell, and a seed and clock give the same orders."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from decimal import Decimal

from pipeline.stream.simulate import ChangeLog, place_order, simulate_minute
from tests.helpers.stream import connect, prepared

START = datetime(2026, 1, 1)


def _stock(conn) -> dict[int, int]:
    return dict(conn.execute("SELECT id, stock_quantity FROM products").fetchall())


def test_stock_moves_exactly_by_accepted_orders(stream_stack):
    settings = stream_stack()
    conn, catalog = prepared(settings)
    conn.execute("UPDATE products SET stock_quantity = 6 + id % 5")  # small stocks: shortages within minutes
    conn.commit()
    initial = _stock(conn)
    first_new_order = conn.execute("SELECT max(id) FROM orders").fetchone()[0]
    outcomes = []
    for minute in range(20):
        outcomes += simulate_minute(conn, catalog, START + timedelta(minutes=minute), seed=3).orders
    final = _stock(conn)

    assert min(final.values()) >= 0
    accepted_quantity = dict.fromkeys(initial, 0)
    for outcome in outcomes:
        if outcome.accepted:
            for product_id, quantity in outcome.lines:
                accepted_quantity[product_id] += quantity
    assert {p: initial[p] - final[p] for p in initial} == accepted_quantity
    # the database agrees with the outcomes: accepted = paid or shipped, cancelled ones carry their reason
    cancelled = {o.order_id for o in outcomes if not o.accepted}
    assert cancelled, "small stocks must produce stock cancellations"
    rows = conn.execute(
        "SELECT o.id, o.status, c.reason FROM orders o LEFT JOIN order_cancellations c ON c.order_id = o.id"
        " WHERE o.id > %s",
        (first_new_order,),
    ).fetchall()
    assert {r[0] for r in rows if r[1] == "cancelled"} == cancelled
    assert {r[2] for r in rows if r[1] == "cancelled"} == {"out_of_stock"}
    assert all(r[2] is None for r in rows if r[1] != "cancelled")
    assert all(3 <= n <= 20 for n in _orders_per_minute(conn, first_new_order))
    assert conn.execute("SELECT sim_time FROM sim_clock").fetchone()[0] == START + timedelta(minutes=20)


def _orders_per_minute(conn, after_id: int) -> list[int]:
    rows = conn.execute(
        "SELECT count(*) FROM orders WHERE id > %s GROUP BY date_trunc('minute', created_at)", (after_id,)
    ).fetchall()
    return [n for (n,) in rows]


def test_concurrent_generators_cannot_oversell(stream_stack):
    settings = stream_stack()
    conn, catalog = prepared(settings)
    conn.execute("UPDATE products SET stock_quantity = 10 WHERE id = 1")
    conn.commit()
    user_id, country = catalog.users[0]
    results: list[tuple[bool, int]] = []
    lock = threading.Lock()

    def buyer(quantity: int) -> None:
        with connect(settings) as own:
            for _ in range(5):
                changes = ChangeLog()
                with own.transaction():
                    outcome = place_order(
                        own, user_id, country, "paypal", [(1, Decimal("9.99"), quantity)], START, changes
                    )
                    changes.flush(own)
                with lock:
                    results.append((outcome.accepted, quantity))

    threads = [threading.Thread(target=buyer, args=(1 + i % 3,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    sold = sum(quantity for accepted, quantity in results if accepted)
    (left,) = conn.execute("SELECT stock_quantity FROM products WHERE id = 1").fetchone()
    assert len(results) == 40
    assert left >= 0
    assert sold == 10 - left
    assert sold >= 8  # the stock was really sold down (at most the last unit or two can stay, for larger baskets)
    assert any(not accepted for accepted, _ in results)


def test_same_seed_and_clock_give_the_same_orders(stream_stack):
    shapes = []
    for _ in range(2):
        settings = stream_stack()
        conn, catalog = prepared(settings)
        before = conn.execute("SELECT max(id) FROM orders").fetchone()[0]
        for minute in range(3):
            simulate_minute(conn, catalog, START + timedelta(minutes=minute), seed=11)
        shapes.append(
            conn.execute(
                "SELECT o.user_id, o.created_at, o.total_amount, o.status, i.product_id, i.quantity"
                " FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.id > %s ORDER BY o.id, i.id",
                (before,),
            ).fetchall()
        )
    assert shapes[0] and shapes[0] == shapes[1]
