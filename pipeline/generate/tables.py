"""The six source tables as Arrow tables, generated with numpy from one seeded random generator.

Rows are built column by column (no Python loop per row). Ids follow time: the n-th user is the n-th to sign up,
the n-th order the n-th placed, as in a real OLTP database. Money is computed in integer cents, so
`line_total = quantity * unit_price` and `total_amount = sum(line_total)` hold exactly.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.generate import pools as P
from pipeline.generate.calendar import (
    DAY_S,
    HOUR_S,
    LAST_SECOND_S,
    WINDOW_START_S,
    activity_times,
)
from pipeline.generate.lifetimes import REDRAWS, Traits, cancel_probability, draw_traits

# Rows at scale factor 1; order_items follow from orders (three lines per order on average).
SCALE_ROWS: dict[str, int] = {
    "users": 1_000,
    "products": 200,
    "orders": 5_000,
    "events": 10_000,
    "crm_contacts": 500,
}

ITEMS_PER_ORDER = (np.arange(1, 6), np.array([0.15, 0.20, 0.30, 0.20, 0.15]))
ORDER_QUANTITY = (np.arange(1, 5), np.array([0.70, 0.20, 0.07, 0.03]))
CART_QUANTITY = (np.arange(1, 4), np.array([0.75, 0.20, 0.05]))
PAGE_VIEWS = (np.arange(1, 6), np.array([0.35, 0.25, 0.18, 0.12, 0.10]))
TRACKED_ORDER_SHARE = 0.08  # orders whose web session was tracked (the others came from the app or the phone)
ANONYMOUS_SHARE = 0.25  # browsing sessions of visitors who are not logged in (page views only)
CART_SHARE = 0.30  # logged-in browsing sessions that add to cart ...
CHECKOUT_SHARE = 0.35  # ... and of those, the ones that start a checkout and abandon it
CRM_CONVERSION_SHARE = 0.40
INACTIVE_SHARE = 0.07
NEVER_LOGGED_IN_SHARE = 0.06

# Seconds from `created_at` to `updated_at` per order status: (min, max).
STATUS_DELAY_S = {
    "pending": (0, 1),
    "paid": (60, 1_800),
    "shipped": (DAY_S, 3 * DAY_S),
    "delivered": (3 * DAY_S, 12 * DAY_S),
    "cancelled": (HOUR_S, 3 * DAY_S),
}


def rows_at(scale: float, table: str) -> int:
    """Rows of `table` at `scale`: linear, and never zero (a tiny scale still gives a usable dataset)."""
    return max(1, round(SCALE_ROWS[table] * scale))


@dataclass
class Dataset:
    tables: dict[str, pa.Table]

    def counts(self) -> dict[str, int]:
        return {name: table.num_rows for name, table in self.tables.items()}


def build_dataset(scale: float, seed: int) -> Dataset:
    return Dataset(tables=dict(generate_tables(scale, seed)))


def generate_tables(scale: float, seed: int) -> Iterator[tuple[str, pa.Table]]:
    """The six tables in load order (parents first), each yielded as soon as it is built, so a loader can COPY
    one while the next is being built. The random draws happen in the same order either way."""
    rng = np.random.default_rng(seed)
    pools = P.build_pools(seed)
    users = _users(rng, pools, rows_at(scale, "users"))
    yield "users", users.table
    products = _products(rng, pools, rows_at(scale, "products"))
    yield "products", products.table
    orders, items = _orders(rng, users, products, rows_at(scale, "orders"))
    yield "orders", orders.table
    yield "order_items", items.table
    yield "events", _events(rng, users, products, orders, items, rows_at(scale, "events"))
    yield "crm_contacts", _crm_contacts(rng, pools, users, rows_at(scale, "crm_contacts"))


# -- users ---------------------------------------------------------------------------------------------------------
@dataclass
class Users:
    table: pa.Table
    created: np.ndarray  # epoch seconds, ascending (index i = user id i + 1)
    country: np.ndarray  # index into COUNTRIES
    propensity_cdf: np.ndarray  # cumulative buying propensity, in signup order
    engagement_cdf: np.ndarray  # cumulative engagement (browsing), in signup order
    traits: Traits  # plan, engagement, friction and when each user leaves (see lifetimes.py)

    def pick_customer(self, rng: np.random.Generator, moments: np.ndarray, cdf: np.ndarray) -> np.ndarray:
        """For each moment, a user who had signed up strictly before it and not left yet, weighted by `cdf`
        (-1 when nobody had signed up). When every user who had signed up has left, one of them is picked anyway:
        the caller decides (orders extend that user's stay, see `_orders`)."""
        picked = self._pick_signed_up_before(rng, moments, cdf)
        for _ in range(REDRAWS):
            gone = (picked >= 0) & (self.traits.left_at[np.maximum(picked, 0)] <= moments)
            if not gone.any():
                break
            picked[gone] = self._pick_signed_up_before(rng, moments[gone], cdf)
        return picked

    def _pick_signed_up_before(self, rng: np.random.Generator, moments: np.ndarray, cdf: np.ndarray) -> np.ndarray:
        signed_up = np.searchsorted(self.created, moments, side="left")
        ceiling = cdf[np.maximum(signed_up, 1) - 1]
        picked = np.searchsorted(cdf, rng.random(moments.size) * ceiling, side="right")
        return np.where(signed_up > 0, np.minimum(picked, signed_up - 1), -1)


def _users(rng: np.random.Generator, pools: P.Pools, n: int) -> Users:
    created = np.sort(activity_times(rng, n))
    traits = draw_traits(rng, created)
    country = rng.choice(len(P.COUNTRIES), size=n, p=P.shares(P.COUNTRIES))
    first, last = pools.name_index(rng, country)
    domain = rng.choice(len(P.EMAIL_DOMAINS), size=n, p=P.shares(P.EMAIL_DOMAINS))
    ids = np.arange(1, n + 1)
    email = pc.binary_join_element_wise(
        pools.first_ascii.take(first),
        ".",
        pools.last_ascii.take(last),
        pa.array(ids).cast(pa.string()),
        "@",
        pa.array(P.labels(P.EMAIL_DOMAINS)).take(domain),
        "",
    )
    never_logged_in = rng.random(n) < NEVER_LOGGED_IN_SHARE
    # Users log in until they leave: skew the last login towards the end of their stay.
    stay_end = np.minimum(traits.left_at, LAST_SECOND_S)
    last_login = created + ((stay_end - created) * (1 - rng.random(n) ** 3)).astype(np.int64)
    updated = created + ((last_login - created) * rng.random(n)).astype(np.int64)
    updated = np.where(never_logged_in, created, updated)
    table = pa.table(
        {
            "id": pa.array(ids, pa.int32()),
            "email": email,
            "first_name": pools.first_names.take(first),
            "last_name": pools.last_names.take(last),
            "country": _labels(P.COUNTRIES, country),
            "plan_type": _labels(P.PLAN_TYPES, traits.plan),
            "created_at": _timestamps(created),
            "updated_at": _timestamps(updated),
            "last_login": _timestamps(last_login, null=never_logged_in),
            "is_active": pa.array(rng.random(n) >= INACTIVE_SHARE),
        }
    )
    propensity = rng.lognormal(0.0, 1.0, size=n)
    return Users(
        table=table,
        created=created,
        country=country,
        propensity_cdf=np.cumsum(propensity),
        engagement_cdf=np.cumsum(traits.engagement),
        traits=traits,
    )


# -- products ------------------------------------------------------------------------------------------------------
@dataclass
class Products:
    table: pa.Table
    price_cents: np.ndarray
    popularity: np.ndarray  # probabilities: a few best-sellers and a long tail (ABC analysis has something to find)


def _products(rng: np.random.Generator, pools: P.Pools, n: int) -> Products:
    names = list(P.CATEGORIES)
    category = rng.choice(len(names), size=n, p=np.array([P.CATEGORIES[c][0] for c in names]))
    noun_pool = pa.array([noun for name in names for noun in P.CATEGORIES[name][2]])
    noun_offset = np.cumsum([0] + [len(P.CATEGORIES[name][2]) for name in names])
    noun_count = np.diff(noun_offset)
    noun = noun_offset[category] + (rng.random(n) * noun_count[category]).astype(np.int64)
    adjective = rng.integers(0, len(P.PRODUCT_ADJECTIVES), size=n)
    brand = rng.integers(0, len(pools.brands), size=n)
    median = np.array([P.CATEGORIES[c][1] for c in names])[category]
    euros = np.clip(np.floor(median * rng.lognormal(0.0, 0.55, size=n)), 1, 1_999)
    price_cents = (euros * 100 + 99).astype(np.int64)  # psychological pricing: 19.99
    created = WINDOW_START_S + rng.integers(0, 7 * DAY_S, size=n)
    updated = created + ((LAST_SECOND_S - created) * rng.random(n)).astype(np.int64)
    stock = np.where(rng.random(n) < 0.05, 0, rng.integers(1, 1_000, size=n))
    table = pa.table(
        {
            "id": pa.array(np.arange(1, n + 1), pa.int32()),
            "merchant_id": pa.array(rng.integers(1, max(1, n // 4) + 1, size=n), pa.int32()),
            "name": pc.binary_join_element_wise(
                pools.brands.take(brand),
                pa.array(P.PRODUCT_ADJECTIVES).take(adjective),
                noun_pool.take(noun),
                " ",
            ),
            "description": pools.descriptions.take(rng.integers(0, len(pools.descriptions), size=n)),
            "category": pa.array(names).take(category),
            "price": _money(price_cents),
            "stock_quantity": pa.array(stock, pa.int32()),
            "created_at": _timestamps(created),
            "updated_at": _timestamps(updated),
        }
    )
    rank = rng.permutation(n) + 1
    weight = 1.0 / rank**0.9
    return Products(table=table, price_cents=price_cents, popularity=weight / weight.sum())


# -- orders and their lines ----------------------------------------------------------------------------------------
@dataclass
class Orders:
    table: pa.Table
    user: np.ndarray  # user index (id - 1)
    created: np.ndarray
    item_start: np.ndarray  # first line of each order in the items table
    item_count: np.ndarray


@dataclass
class Items:
    table: pa.Table
    product: np.ndarray  # product index (id - 1), in line order (grouped by order)
    quantity: np.ndarray


def _orders(rng: np.random.Generator, users: Users, products: Products, n: int) -> tuple[Orders, Items]:
    created = activity_times(rng, n)
    user = users.pick_customer(rng, created, users.propensity_cdf)
    # Orders placed before the first signup go to the first user, shortly after they joined.
    early = user < 0
    user[early] = 0
    created[early] = np.minimum(users.created[0] + rng.integers(600, DAY_S, size=early.sum()), LAST_SECOND_S)
    chronological = np.argsort(created, kind="stable")
    created, user = created[chronological], user[chronological]
    # A user who orders is still a customer (rare: only when everyone who had signed up had already left).
    np.maximum.at(users.traits.left_at, user, created + 1)

    status = _order_statuses(rng, users.traits.friction[user])
    low = np.array([STATUS_DELAY_S[s][0] for s in P.labels(P.ORDER_STATUSES)])[status]
    high = np.array([STATUS_DELAY_S[s][1] for s in P.labels(P.ORDER_STATUSES)])[status]
    updated = np.minimum(created + rng.integers(low, high), LAST_SECOND_S)

    item_order, item_product, quantity = _order_lines(rng, products, n)
    unit_cents = products.price_cents[item_product]
    line_cents = quantity * unit_cents
    total_cents = np.bincount(item_order, weights=line_cents, minlength=n).round().astype(np.int64)
    item_count = np.bincount(item_order, minlength=n)
    item_start = np.concatenate(([0], np.cumsum(item_count)[:-1]))

    items_table = pa.table(
        {
            "id": pa.array(np.arange(1, item_order.size + 1), pa.int32()),
            "order_id": pa.array(item_order + 1, pa.int32()),
            "product_id": pa.array(item_product + 1, pa.int32()),
            "quantity": pa.array(quantity, pa.int32()),
            "unit_price": _money(unit_cents),
            "line_total": _money(line_cents),
        }
    )
    table = pa.table(
        {
            "id": pa.array(np.arange(1, n + 1), pa.int32()),
            "user_id": pa.array(user + 1, pa.int32()),
            "created_at": _timestamps(created),
            "updated_at": _timestamps(updated),
            "total_amount": _money(total_cents),
            "status": _labels(P.ORDER_STATUSES, status),
            "country": _labels(P.COUNTRIES, users.country[user]),
            "payment_method": _labels(
                P.PAYMENT_METHODS, rng.choice(len(P.PAYMENT_METHODS), size=n, p=P.shares(P.PAYMENT_METHODS))
            ),
        }
    )
    orders = Orders(table=table, user=user, created=created, item_start=item_start, item_count=item_count)
    return orders, Items(table=items_table, product=item_product, quantity=quantity)


def _order_statuses(rng: np.random.Generator, friction: np.ndarray) -> np.ndarray:
    """Status per order (index into ORDER_STATUSES): cancellations concentrate on users with friction, at the
    overall cancelled share; the other statuses keep their relative weights."""
    labels = P.labels(P.ORDER_STATUSES)
    shares = P.shares(P.ORDER_STATUSES)
    cancelled = labels.index("cancelled")
    others = np.array([i for i in range(len(labels)) if i != cancelled])
    status = rng.choice(others, size=friction.size, p=shares[others] / shares[others].sum())
    status[rng.random(friction.size) < cancel_probability(friction, shares[cancelled])] = cancelled
    return status


def _order_lines(
    rng: np.random.Generator, products: Products, n_orders: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(order, product, quantity) per line: 1-5 distinct products per order (fewer when the catalogue is tiny),
    popular products favoured."""
    n_products = products.price_cents.size
    count = np.minimum(rng.choice(ITEMS_PER_ORDER[0], size=n_orders, p=ITEMS_PER_ORDER[1]), n_products)
    order = np.repeat(np.arange(n_orders), count)
    product = rng.choice(n_products, size=order.size, p=products.popularity)
    for _ in range(3):  # redraw products that repeat within an order
        duplicate = _repeats(order * n_products + product)
        if not duplicate.any():
            break
        product[duplicate] = rng.choice(n_products, size=duplicate.sum(), p=products.popularity)
    keep = ~_repeats(order * n_products + product)
    order, product = order[keep], product[keep]
    quantity = rng.choice(ORDER_QUANTITY[0], size=order.size, p=ORDER_QUANTITY[1])
    return order, product, quantity


def _repeats(keys: np.ndarray) -> np.ndarray:
    """True where a key already occurred earlier in the array."""
    _, first = np.unique(keys, return_index=True)
    repeated = np.ones(keys.size, dtype=bool)
    repeated[first] = False
    return repeated


# -- events: coherent web sessions ---------------------------------------------------------------------------------
@dataclass
class Sessions:
    """One row per session; `anchor` is the first event's time, or for purchase sessions the purchase's time."""

    user: np.ndarray  # -1: anonymous visitor
    anchor: np.ndarray
    page_views: np.ndarray
    carts: np.ndarray
    checkout: np.ndarray  # 0/1
    order: np.ndarray  # order index of the purchase, -1 when the session does not buy

    @property
    def length(self) -> np.ndarray:
        return self.page_views + self.carts + self.checkout + (self.order >= 0)

    def concat(self, other: Sessions) -> Sessions:
        return Sessions(*(np.concatenate((getattr(self, f), getattr(other, f))) for f in self.__dataclass_fields__))


def _events(
    rng: np.random.Generator, users: Users, products: Products, orders: Orders, items: Items, n: int
) -> pa.Table:
    buying = _purchase_sessions(rng, orders, n)
    browsing = _browsing_sessions(rng, users, n - int(buying.length.sum()))
    sessions = buying.concat(browsing)
    length = sessions.length
    session = np.repeat(np.arange(length.size), length)[:n]  # the last browsing session may lose its tail
    first_event = np.concatenate(([0], np.cumsum(length)[:-1]))
    position = np.arange(n) - first_event[session]
    n_sessions = session[-1] + 1

    page_views, carts, checkout = sessions.page_views[session], sessions.carts[session], sessions.checkout[session]
    is_page_view = position < page_views
    is_cart = ~is_page_view & (position < page_views + carts)
    is_checkout = ~is_page_view & ~is_cart & (position < page_views + carts + checkout)
    event_type = np.select([is_page_view, is_cart, is_checkout], [0, 1, 2], 3)

    # What was put in the cart: the order's lines for buying sessions, popular products otherwise.
    order = sessions.order[session]
    line = np.clip(orders.item_start[np.maximum(order, 0)] + position - page_views, 0, items.product.size - 1)
    bought = order >= 0
    cart_product = np.where(bought, items.product[line], rng.choice(products.popularity.size, n, p=products.popularity))
    cart_quantity = np.where(bought, items.quantity[line], rng.choice(CART_QUANTITY[0], n, p=CART_QUANTITY[1]))

    # Pages: a landing page first, then product pages; the page before the first cart event shows that product.
    first_cart = is_cart & (position == page_views)
    first_cart_product = np.zeros(n_sessions, dtype=np.int64)
    first_cart_product[session[first_cart]] = cart_product[first_cart]
    before_cart = (carts > 0) & (position == page_views - 1)
    shown_product = np.where(
        before_cart, first_cart_product[session], rng.choice(products.popularity.size, n, p=products.popularity)
    )
    landing = np.where((position == 0) & ~before_cart, rng.integers(0, len(P.LANDING_PAGES), size=n), -1)

    timestamp = _event_times(rng, sessions, session, position, first_event, users)
    # Session ids number sessions in the order they start; rows are stored in time order.
    session_rank = np.empty(n_sessions, dtype=np.int64)
    session_rank[np.lexsort((np.arange(n_sessions), timestamp[first_event[:n_sessions]]))] = np.arange(n_sessions)
    device = rng.choice(len(P.DEVICES), size=n_sessions, p=P.shares(P.DEVICES))
    rows = np.lexsort((position, session_rank[session], timestamp))
    session, event_type, timestamp = session[rows], event_type[rows], timestamp[rows]
    order, cart_product, cart_quantity = order[rows], cart_product[rows], cart_quantity[rows]
    shown_product, landing = shown_product[rows], landing[rows]

    page_url = pc.if_else(
        pa.array(landing >= 0),
        pa.array(P.LANDING_PAGES).take(np.maximum(landing, 0)),
        pc.binary_join_element_wise("/products/", _text(shown_product + 1), ""),
    )
    detail = pc.case_when(
        pa.StructArray.from_arrays(
            [pa.array(event_type == 0), pa.array(event_type == 1), pa.array(event_type == 3)],
            ["page_view", "add_to_cart", "purchase"],
        ),
        pc.binary_join_element_wise(', "page_url": "', page_url, '"', ""),
        pc.binary_join_element_wise(
            ', "product_id": ', _text(cart_product + 1), ', "quantity": ', _text(cart_quantity), ""
        ),
        pc.binary_join_element_wise(', "order_id": ', _text(order + 1), ""),
        pa.scalar(""),
    )
    session_id = pc.utf8_lpad(_text(session_rank[session] + 1), width=8, padding="0")
    metadata = pc.binary_join_element_wise(
        '{"session_id": "s', session_id, '", "device": "', _labels(P.DEVICES, device[session]), '"', detail, "}", ""
    )
    user = sessions.user[session]
    return pa.table(
        {
            "id": pa.array(np.arange(1, n + 1), pa.int64()),
            "user_id": pa.array(user + 1, pa.int32(), mask=user < 0),
            "event_type": pa.array(["page_view", "add_to_cart", "checkout_start", "purchase"]).take(event_type),
            "event_ts": _timestamps(timestamp),
            "metadata": metadata,
        }
    )


def _purchase_sessions(rng: np.random.Generator, orders: Orders, n_events: int) -> Sessions:
    """The tracked web sessions that ended in an order; they use at most half of the event budget."""
    n_orders = orders.user.size
    tracked = np.sort(rng.choice(n_orders, size=max(1, round(n_orders * TRACKED_ORDER_SHARE)), replace=False))
    page_views = rng.choice(PAGE_VIEWS[0][:3], size=tracked.size, p=PAGE_VIEWS[1][:3] / PAGE_VIEWS[1][:3].sum())
    length = page_views + orders.item_count[tracked] + 2
    within_budget = np.cumsum(length) <= n_events // 2
    tracked, page_views = tracked[within_budget], page_views[within_budget]
    return Sessions(
        user=orders.user[tracked],
        anchor=orders.created[tracked],
        page_views=page_views,
        carts=orders.item_count[tracked],
        checkout=np.ones(tracked.size, dtype=np.int64),
        order=tracked,
    )


def _browsing_sessions(rng: np.random.Generator, users: Users, n_events: int) -> Sessions:
    """Visits without a purchase: page views, and for logged-in users sometimes a cart, sometimes a checkout."""
    sessions = Sessions(*(np.zeros(0, dtype=np.int64) for _ in range(6)))
    while sessions.length.sum() < n_events:
        size = math.ceil((n_events - sessions.length.sum()) / 2) + 5
        start = activity_times(rng, size)
        user = users.pick_customer(rng, start, users.engagement_cdf)
        # Visitors who left no longer log in; what remains of their visits is anonymous browsing.
        gone = (user >= 0) & (users.traits.left_at[np.maximum(user, 0)] <= start)
        user[gone | (rng.random(size) < ANONYMOUS_SHARE)] = -1
        logged_in = user >= 0
        carts = np.where(logged_in & (rng.random(size) < CART_SHARE), 1 + (rng.random(size) < 0.3), 0)
        checkout = ((carts > 0) & (rng.random(size) < CHECKOUT_SHARE)).astype(np.int64)
        page_views = rng.choice(PAGE_VIEWS[0], size=size, p=PAGE_VIEWS[1])
        batch = Sessions(user, start, page_views, carts, checkout, np.full(size, -1))
        sessions = sessions.concat(batch)
    return sessions


def _event_times(
    rng: np.random.Generator,
    sessions: Sessions,
    session: np.ndarray,
    position: np.ndarray,
    first_event: np.ndarray,
    users: Users,
) -> np.ndarray:
    """Events a few seconds to minutes apart: forward from a browsing session's start, backward from a purchase."""
    gap = np.where(position == 0, 0, 5 + rng.exponential(45.0, size=session.size).astype(np.int64))
    elapsed = np.cumsum(gap)
    elapsed -= elapsed[first_event[session]]  # restart the clock at each session's first event
    buying = sessions.order[session] >= 0
    anchor = sessions.anchor[session]
    # Buying sessions are never cut short, so their last event (the purchase) is at elapsed == duration.
    last_event = first_event[session] + sessions.length[session] - 1
    duration = elapsed[np.minimum(last_event, session.size - 1)]
    timestamp = np.where(buying, anchor - duration + elapsed, anchor + elapsed)
    # A purchase session never starts before its user signed up: squeeze its first steps after the signup.
    signup = users.created[np.maximum(sessions.user[session], 0)]
    timestamp = np.where(buying, np.maximum(timestamp, signup), timestamp)
    return np.minimum(timestamp, LAST_SECOND_S)


# -- CRM contacts --------------------------------------------------------------------------------------------------
def _crm_contacts(rng: np.random.Generator, pools: P.Pools, users: Users, n: int) -> pa.Table:
    """Leads from marketing; some of them signed up later (same e-mail, converted when the user was created)."""
    n_users = users.created.size
    converted_user = np.sort(rng.choice(n_users, size=min(n_users, round(n * CRM_CONVERSION_SHARE)), replace=False))
    n_leads = n - converted_user.size
    lead_country = rng.choice(len(P.COUNTRIES), size=n_leads, p=P.shares(P.COUNTRIES))
    first, last = pools.name_index(rng, lead_country)
    domain = rng.choice(len(P.EMAIL_DOMAINS), size=n_leads, p=P.shares(P.EMAIL_DOMAINS))
    # A lead's address has a second dot ("jean.martin.12@..."), so it never equals a user's ("jean.martin12@...").
    lead_email = pc.binary_join_element_wise(
        pools.first_ascii.take(first),
        ".",
        pools.last_ascii.take(last),
        ".",
        _text(np.arange(1, n_leads + 1)),
        "@",
        pa.array(P.labels(P.EMAIL_DOMAINS)).take(domain),
        "",
    )
    users_table = users.table
    converted_at = users.created[converted_user]
    converted_created = np.maximum(converted_at - rng.integers(HOUR_S, 60 * DAY_S, size=converted_user.size),
                                   WINDOW_START_S)  # fmt: skip
    created = np.concatenate((converted_created, activity_times(rng, n_leads)))
    converted = np.arange(n) < converted_user.size
    source = rng.choice(len(P.CRM_SOURCES), size=n, p=P.shares(P.CRM_SOURCES))
    source_label = _labels(P.CRM_SOURCES, source)
    campaign = pc.binary_join_element_wise(
        "CAMP_", pc.strftime(_timestamps(created), format="%Y%m"), "_", pc.utf8_upper(source_label), ""
    )
    with_campaign = np.isin(source, [P.labels(P.CRM_SOURCES).index(s) for s in ("paid_ads", "email_campaign")])
    table = pa.table(
        {
            "email": pa.concat_arrays([users_table["email"].take(converted_user).combine_chunks(), lead_email]),
            "first_name": pa.concat_arrays(
                [users_table["first_name"].take(converted_user).combine_chunks(), pools.first_names.take(first)]
            ),
            "last_name": pa.concat_arrays(
                [users_table["last_name"].take(converted_user).combine_chunks(), pools.last_names.take(last)]
            ),
            "source": source_label,
            "campaign_id": pc.if_else(pa.array(with_campaign), campaign, pa.scalar(None, pa.string())),
            "created_at": _timestamps(created),
            "converted": pa.array(converted),
            "converted_at": _timestamps(
                np.concatenate((converted_at, np.zeros(n_leads, dtype=np.int64))), null=~converted
            ),
        }
    )
    chronological = np.lexsort((np.arange(n), created))
    table = table.take(chronological)
    return table.add_column(0, "id", pa.array(np.arange(1, n + 1), pa.int32()))


# -- Arrow helpers -------------------------------------------------------------------------------------------------
def _timestamps(seconds: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    return pa.array(seconds.astype("datetime64[s]"), pa.timestamp("s"), mask=null)


def _money(cents: np.ndarray) -> pa.Array:
    """Exact numeric(10,2) values from integer cents."""
    return pc.cast(pa.array(cents / 100), pa.decimal128(10, 2))


def _labels(choices: tuple[tuple, ...], index: np.ndarray) -> pa.Array:
    return pa.array(P.labels(choices)).take(index)


def _text(values: np.ndarray) -> pa.Array:
    return pa.array(values).cast(pa.string())
