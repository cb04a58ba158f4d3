"""Point-in-time features and labels: hand-made histories with known answers, and the generated stack's history
with everything after the cut-off rewritten (features must not move; labels must)."""

from __future__ import annotations

from datetime import date, timedelta

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from pipeline.predict.features import FEATURES, build_examples, training_cutoffs
from pipeline.predict.history import SCHEMAS, History, read_history

T = date(2025, 6, 30)


def history(orders: list[tuple], customers: list[tuple], sessions: list[tuple]) -> History:
    def table(name: str, rows: list[tuple]) -> pa.Table:
        schema = SCHEMAS[name]
        return pa.table({f.name: pa.array([r[i] for r in rows], f.type) for i, f in enumerate(schema)}, schema=schema)

    return History(table("orders", orders), table("customers", customers), table("sessions", sessions), None)


def day(offset: int) -> date:
    return T + timedelta(days=offset)


def hand_made() -> History:
    # Customer 1: three completed orders and a cancelled one before T, one completed order 10 days after T.
    # Customer 2: one completed order 200 days before T, nothing after. Customer 3: only a cancelled order.
    return history(
        orders=[
            (1, day(-100), True, False, 10.0),
            (1, day(-40), True, False, 20.0),
            (1, day(-10), True, False, 30.0),
            (1, day(-5), False, True, 99.0),
            (1, day(10), True, False, 50.0),
            (2, day(-200), True, False, 80.0),
            (3, day(-20), False, True, 15.0),
        ],
        customers=[(1, "premium", "FR", day(-300)), (2, "freemium", "DE", day(-250)), (3, "freemium", "FR", day(-30))],
        sessions=[(1, day(-3), True, True, False), (1, day(-60), False, False, False), (1, day(5), True, False, False)],
    )


def test_features_and_labels_of_a_hand_made_history() -> None:
    examples = build_examples(hand_made(), [T], horizon_days=90)
    rows = {row["customer_key"]: row for row in examples.table.to_pylist()}
    assert set(rows) == {1, 2}  # customer 3 has no completed order: not in the population
    one, two = rows[1], rows[2]
    assert (one["recency_days"], one["completed_orders"], one["lifetime_value"]) == (10, 3, 60.0)
    assert one["avg_order_value"] == 20.0 and one["mean_days_between_orders"] == 45.0
    assert (one["orders_30d"], one["orders_90d"], one["cancelled_orders"]) == (1, 2, 1)
    assert one["cancellation_rate"] == 0.25
    assert (one["sessions_30d"], one["sessions_90d"], one["cart_sessions_90d"], one["checkout_sessions_90d"]) == (
        1, 2, 1, 1
    )  # fmt: skip
    assert one["days_since_last_session"] == 3 and one["tenure_days"] == 300
    assert (one["plan_type"], one["country_code"], one["churned"]) == ("premium", "FR", False)
    assert two["recency_days"] == 200 and two["mean_days_between_orders"] == 200 and two["churned"] is True
    assert two["days_since_last_session"] == 250  # never visited: as long as they exist
    assert examples.rule_band().tolist() == [0, 2]  # 10 days: Low; 200 days: High

    # A 5-day horizon does not reach customer 1's next order.
    short = {r["customer_key"]: r["churned"] for r in build_examples(hand_made(), [T], 5).table.to_pylist()}
    assert short == {1: True, 2: True}


def test_training_cutoffs_keep_their_labels_out_of_the_test_window() -> None:
    train, test = training_cutoffs(date(2025, 12, 31), horizon_days=90, count=4, step_days=28)
    assert test == date(2025, 10, 2)
    assert train == sorted(train) and len(train) == 4
    assert train[-1] + timedelta(days=90) <= test


def rewrite_after(h: History, cutoff: date) -> History:
    """Everything dated after `cutoff` replaced: those orders become cancelled and moved a week later, every
    customer gets a new completed order the day after the cut-off, sessions after it are dropped."""
    orders = h.orders
    after = pc.greater(orders["order_date"], pa.scalar(cutoff, pa.date32()))
    before_rows = orders.filter(pc.invert(after))
    later = orders.filter(after)
    later = later.set_column(2, "is_completed", pa.array([False] * later.num_rows))
    later = later.set_column(3, "is_cancelled", pa.array([True] * later.num_rows))
    later = later.set_column(
        1, "order_date", pa.array([d + timedelta(days=7) for d in later["order_date"].to_pylist()], pa.date32())
    )
    keys = h.customers["customer_key"].to_pylist()
    extra = pa.table(
        {
            "customer_key": pa.array(keys, pa.int64()),
            "order_date": pa.array([cutoff + timedelta(days=1)] * len(keys), pa.date32()),
            "is_completed": pa.array([True] * len(keys)),
            "is_cancelled": pa.array([False] * len(keys)),
            "revenue": pa.array([1.0] * len(keys)),
        },
        schema=SCHEMAS["orders"],
    )
    sessions = h.sessions.filter(pc.less_equal(h.sessions["session_date"], pa.scalar(cutoff, pa.date32())))
    return History(pa.concat_tables([before_rows, later, extra]), h.customers, sessions, h.as_of_date)


@pytest.mark.slow
def test_changing_data_after_the_cutoff_leaves_features_unchanged(churn_stack) -> None:
    real = read_history(churn_stack)
    cutoff = date(2025, 6, 1)
    rewritten = rewrite_after(real, cutoff)
    before = build_examples(real, [cutoff], horizon_days=90)
    after = build_examples(rewritten, [cutoff], horizon_days=90)

    assert len(before) > 300
    assert before.table.select(["customer_key", *FEATURES]).equals(after.table.select(["customer_key", *FEATURES]))
    # The rewrite did reach the labels: everyone now orders the next day, so nobody churns.
    assert before.labels.mean() > 0.3 and after.labels.sum() == 0
