"""Point-in-time features and labels: what was known about each customer at the end of a cut-off day T.

Features read only rows dated on or before T (orders by order day, sessions by session day); the label reads only
the N days after T. A customer is in the population of T when they had at least one completed order by T — the
customers the rule-based `churn_risk` of `mart_customer_ltv` rates. The SQL runs on an in-memory DuckDB over the
History's Arrow tables, whatever engine the warehouse is, so both roads compute identical features.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import numpy as np
import pyarrow as pa

from pipeline.predict.history import History

NUMERIC_FEATURES = (
    "recency_days",
    "completed_orders",
    "lifetime_value",
    "avg_order_value",
    "tenure_days",
    "days_since_first_order",
    "mean_days_between_orders",
    "orders_30d",
    "orders_90d",
    "cancelled_orders",
    "cancellation_rate",
    "sessions_30d",
    "sessions_90d",
    "cart_sessions_90d",
    "checkout_sessions_90d",
    "days_since_last_session",
)
CATEGORICAL_FEATURES = ("plan_type", "country_code")
FEATURES = NUMERIC_FEATURES + CATEGORICAL_FEATURES

# The rule of mart_customer_ltv.churn_risk (days since the last completed order), the baseline to beat.
RULE_HIGH_DAYS = 180
RULE_MEDIUM_DAYS = 90

FEATURES_SQL = """
with completed as (
    select c.cutoff, o.customer_key,
           count(*) as completed_orders,
           sum(o.revenue) as lifetime_value,
           min(o.order_date) as first_order_date,
           max(o.order_date) as last_order_date,
           count(*) filter (where o.order_date > c.cutoff - 30) as orders_30d,
           count(*) filter (where o.order_date > c.cutoff - 90) as orders_90d
    from cutoffs as c join orders as o on o.order_date <= c.cutoff and o.is_completed
    group by all
),
placed as (
    select c.cutoff, o.customer_key,
           count(*) as placed_orders,
           count(*) filter (where o.is_cancelled) as cancelled_orders
    from cutoffs as c join orders as o on o.order_date <= c.cutoff
    group by all
),
visits as (
    select c.cutoff, s.customer_key,
           count(*) filter (where s.session_date > c.cutoff - 30) as sessions_30d,
           count(*) filter (where s.session_date > c.cutoff - 90) as sessions_90d,
           count(*) filter (where s.session_date > c.cutoff - 90 and s.has_add_to_cart) as cart_sessions_90d,
           count(*) filter (where s.session_date > c.cutoff - 90 and s.has_checkout) as checkout_sessions_90d,
           max(s.session_date) as last_session_date
    from cutoffs as c join sessions as s on s.session_date <= c.cutoff
    group by all
),
future as (
    select distinct c.cutoff, o.customer_key
    from cutoffs as c join orders as o
      on o.is_completed and o.order_date > c.cutoff and o.order_date <= c.cutoff + $horizon::integer
)
select
    k.cutoff,
    k.customer_key,
    date_diff('day', k.last_order_date, k.cutoff) as recency_days,
    k.completed_orders,
    k.lifetime_value,
    k.lifetime_value / k.completed_orders as avg_order_value,
    greatest(date_diff('day', cu.registration_date, k.cutoff), 0) as tenure_days,
    date_diff('day', k.first_order_date, k.cutoff) as days_since_first_order,
    -- One order so far: the gap is at least the time since that order.
    case when k.completed_orders > 1
         then date_diff('day', k.first_order_date, k.last_order_date) / (k.completed_orders - 1)
         else date_diff('day', k.first_order_date, k.cutoff) end as mean_days_between_orders,
    k.orders_30d,
    k.orders_90d,
    coalesce(p.cancelled_orders, 0) as cancelled_orders,
    coalesce(p.cancelled_orders, 0) / p.placed_orders as cancellation_rate,
    coalesce(v.sessions_30d, 0) as sessions_30d,
    coalesce(v.sessions_90d, 0) as sessions_90d,
    coalesce(v.cart_sessions_90d, 0) as cart_sessions_90d,
    coalesce(v.checkout_sessions_90d, 0) as checkout_sessions_90d,
    -- Never visited while logged in: as long ago as the customer exists.
    coalesce(date_diff('day', v.last_session_date, k.cutoff),
             greatest(date_diff('day', cu.registration_date, k.cutoff), 0)) as days_since_last_session,
    coalesce(cu.plan_type, 'unknown') as plan_type,
    coalesce(cu.country_code, 'unknown') as country_code,
    f.customer_key is null as churned
from completed as k
join placed as p using (cutoff, customer_key)
left join customers as cu using (customer_key)
left join visits as v using (cutoff, customer_key)
left join future as f using (cutoff, customer_key)
order by k.cutoff, k.customer_key
"""


@dataclass(frozen=True)
class Examples:
    """One row per (cut-off, customer): features, the label and the rule's risk band."""

    table: pa.Table  # cutoff, customer_key, FEATURES..., churned

    def __len__(self) -> int:
        return self.table.num_rows

    @property
    def customers(self) -> np.ndarray:
        return self.table["customer_key"].to_numpy()

    @property
    def labels(self) -> np.ndarray:
        return self.table["churned"].to_numpy(zero_copy_only=False).astype(int)

    def features(self) -> dict[str, np.ndarray]:
        """Column name → values, in FEATURES order (what the model pipeline takes)."""
        return {name: self.table[name].to_numpy(zero_copy_only=False) for name in FEATURES}

    def rule_band(self) -> np.ndarray:
        """The rule's risk as an ordinal score: 2 High (> 180 days), 1 Medium (> 90), 0 Low."""
        recency = self.table["recency_days"].to_numpy()
        return np.where(recency > RULE_HIGH_DAYS, 2, np.where(recency > RULE_MEDIUM_DAYS, 1, 0))

    def at(self, cutoff: date) -> Examples:
        keep = np.array([value == cutoff for value in self.table["cutoff"].to_pylist()])
        return Examples(self.table.filter(pa.array(keep)))

    def concat(self, other: Examples) -> Examples:
        return Examples(pa.concat_tables([self.table, other.table]))


def build_examples(history: History, cutoffs: Sequence[date], horizon_days: int) -> Examples:
    """Features at each cut-off and the label "no completed order in the `horizon_days` days after it"."""
    con = duckdb.connect()
    try:
        con.register("orders", history.orders)
        con.register("customers", history.customers)
        con.register("sessions", history.sessions)
        con.register("cutoffs", pa.table({"cutoff": pa.array(sorted(set(cutoffs)), pa.date32())}))
        table = con.sql(FEATURES_SQL, params={"horizon": horizon_days}).to_arrow_table()
    finally:
        con.close()
    numeric = {name: table[name].cast(pa.float64()) for name in NUMERIC_FEATURES}
    for name, column in numeric.items():
        table = table.set_column(table.schema.get_field_index(name), name, column)
    return Examples(table)


def training_cutoffs(as_of: date, horizon_days: int, count: int, step_days: int) -> tuple[list[date], date]:
    """(training cut-offs, test cut-off). The test cut-off is the latest whose label window has fully happened by
    `as_of`; training cut-offs end `horizon_days` before it, so no training label peeks into the test window."""
    test = as_of - timedelta(days=horizon_days)
    latest_train = test - timedelta(days=horizon_days)
    return [latest_train - timedelta(days=step_days * k) for k in range(count)][::-1], test
