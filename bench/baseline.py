"""The course's original approach, rebuilt only to measure the product against it. The product never imports this.

Generation (the guide's `generate_data.py`): Faker and `random` build every value row by row in Python, then
`psycopg2.extras.execute_batch(cursor, INSERT ..., rows, page_size=100)` sends them, one table after another with a
commit per table. When psycopg2 is not installed, `execute_batch` below does exactly what psycopg2's does: bind
each row into its INSERT on the client and send 100 statements, joined by `;`, per round trip (psycopg 3's
`ClientCursor` binds like psycopg2).

Export (the guide's `export_to_s3.py`): one connection per table, `pandas.read_sql("SELECT * FROM table")`, the
DataFrame turned into one CSV string (events into one JSON string) in memory, then written out. The guide uploads
that string with `put_object`; here it goes to a local file, so no network time is counted against it.

Where the guide's script breaks the source schema, the smallest fix keeps it running, never a faster technique:
unique e-mails (`fake.unique`), `last_login` and `converted_at` after `created_at`, `converted_at` only for
converted contacts, `stock_quantity` for the guide's `stock`, and page_size 100 for orders (the guide's 10 is slower).
"""

from __future__ import annotations

import json
import random
import warnings
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from itertools import islice
from pathlib import Path

import pandas as pd
import psycopg
from faker import Faker

from pipeline.generate.tables import rows_at
from pipeline.naming import SOURCE_TABLES

PAGE_SIZE = 100
COUNTRIES = ["FR", "US", "UK", "DE", "ES", "IT", "BR", "CA"]  # the guide's list is cut off; any short list will do
PLAN_TYPES = ["freemium", "premium", "enterprise"]
CATEGORIES = ["Electronics", "Fashion", "Home", "Books", "Sports"]
ORDER_STATUSES = ["pending", "paid", "shipped", "delivered", "cancelled"]
EVENT_TYPES = ["page_view", "add_to_cart", "checkout_start", "purchase"]
PAYMENT_METHODS = ["stripe", "paypal", "credit_card"]
SOURCES = ["organic", "paid_ads", "referral", "email_campaign"]

try:  # the guide's driver, when present
    from psycopg2.extras import execute_batch as _psycopg2_execute_batch
except ImportError:
    _psycopg2_execute_batch = None


def batch_driver() -> str:
    """Which `execute_batch` the baseline uses, for the report."""
    if _psycopg2_execute_batch is not None:
        import psycopg2

        return f"psycopg2 {psycopg2.__version__.split()[0]} execute_batch(page_size={PAGE_SIZE})"
    return f"psycopg2's execute_batch(page_size={PAGE_SIZE}) rebuilt on psycopg {psycopg.__version__} ClientCursor"


def execute_batch(cursor, query: str, rows: Iterable[Sequence], page_size: int = PAGE_SIZE) -> None:
    """psycopg2.extras.execute_batch: `page_size` client-bound statements per round trip."""
    iterator = iter(rows)
    while page := list(islice(iterator, page_size)):
        cursor.execute(";".join(cursor.mogrify(query, row) for row in page))


def generate(dsn: str, scale: float, seed: int) -> dict[str, int]:
    """Fill the empty source tables at `dsn` the course's way; rows per table."""
    random.seed(seed)
    Faker.seed(seed)
    fake = Faker()
    counts: dict[str, int] = {}
    with _connect(dsn) as conn:
        counts["users"] = _users(conn, fake, rows_at(scale, "users"))
        counts["products"] = _products(conn, fake, rows_at(scale, "products"))
        counts["orders"], counts["order_items"] = _orders(conn, fake, rows_at(scale, "orders"))
        counts["events"] = _events(conn, fake, rows_at(scale, "events"))
        counts["crm_contacts"] = _crm_contacts(conn, fake, rows_at(scale, "crm_contacts"))
    return counts


def export(dsn: str, out_dir: Path) -> dict[str, int]:
    """Export every source table the course's way into `out_dir`; rows per table."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for table in SOURCE_TABLES:
        with psycopg.connect(dsn) as conn, warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # pandas prefers SQLAlchemy; a DBAPI connection works
            frame = pd.read_sql(f"SELECT * FROM {table}", conn)
        if table == "events":
            body, suffix = frame.to_json(orient="records", date_format="iso"), "json"
        else:
            body, suffix = frame.to_csv(index=False), "csv"
        (out_dir / f"{table}.{suffix}").write_text(body)
        counts[table] = len(frame)
    return counts


def _connect(dsn: str):
    if _psycopg2_execute_batch is not None:
        import psycopg2

        return _Psycopg2Connection(psycopg2.connect(dsn))
    return psycopg.connect(dsn, cursor_factory=psycopg.ClientCursor)


class _Psycopg2Connection:
    """psycopg2's connection as a context manager that also closes (psycopg2's only ends the transaction)."""

    def __init__(self, conn) -> None:
        self.conn = conn

    def __enter__(self):
        return self.conn

    def __exit__(self, *exc) -> None:
        self.conn.close()


def _insert(conn, query: str, rows: list[tuple]) -> None:
    cursor = conn.cursor()
    if _psycopg2_execute_batch is not None:
        _psycopg2_execute_batch(cursor, query, rows, page_size=PAGE_SIZE)
    else:
        execute_batch(cursor, query, rows, page_size=PAGE_SIZE)
    conn.commit()


def _users(conn, fake: Faker, n: int) -> int:
    rows = []
    for _ in range(n):
        created_at = fake.date_time_between(start_date="-2y", end_date="now")
        rows.append(
            (
                fake.unique.email(),
                fake.first_name(),
                fake.last_name(),
                random.choice(COUNTRIES),
                random.choice(PLAN_TYPES) if random.random() > 0.7 else "freemium",
                created_at,
                fake.date_time_between(start_date=created_at, end_date="now"),
                random.random() > 0.05,
            )
        )
    _insert(
        conn,
        "INSERT INTO users (email, first_name, last_name, country, plan_type, created_at, last_login, is_active)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        rows,
    )
    return n


def _products(conn, fake: Faker, n: int) -> int:
    rows = [
        (
            random.randint(1, 100),
            fake.catch_phrase(),
            fake.text(max_nb_chars=150),
            random.choice(CATEGORIES),
            round(random.uniform(5.0, 500.0), 2),
            random.randint(0, 1000),
            fake.date_time_between(start_date="-1y", end_date="now"),
            datetime.now(),
        )
        for _ in range(n)
    ]
    _insert(
        conn,
        "INSERT INTO products (merchant_id, name, description, category, price, stock_quantity, created_at,"
        " updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        rows,
    )
    return n


def _orders(conn, fake: Faker, n: int) -> tuple[int, int]:
    cursor = conn.cursor()
    cursor.execute("SELECT id, country FROM users WHERE is_active = true")
    users = cursor.fetchall()
    cursor.execute("SELECT id, price FROM products")
    products = cursor.fetchall()
    orders, items = [], []
    for order_id in range(1, n + 1):  # the guide assumes ids 1..n: true for a fresh table
        user_id, country = random.choice(users)
        total = Decimal(0)
        for product_id, unit_price in random.sample(products, min(random.randint(1, 5), len(products))):
            quantity = random.randint(1, 3)
            line_total = unit_price * quantity
            total += line_total
            items.append((order_id, product_id, quantity, unit_price, line_total))
        status = random.choices(ORDER_STATUSES, weights=[5, 40, 25, 25, 5])[0]
        created_at = fake.date_time_between(start_date="-6m", end_date="now")
        orders.append((user_id, created_at, round(total, 2), status, country, random.choice(PAYMENT_METHODS)))
    _insert(
        conn,
        "INSERT INTO orders (user_id, created_at, total_amount, status, country, payment_method)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        orders,
    )
    _insert(
        conn,
        "INSERT INTO order_items (order_id, product_id, quantity, unit_price, line_total) VALUES (%s, %s, %s, %s, %s)",
        items,
    )
    return len(orders), len(items)


def _events(conn, fake: Faker, n: int) -> int:
    cursor = conn.cursor()
    cursor.execute("SELECT id FROM users LIMIT 500")
    user_ids = [row[0] for row in cursor.fetchall()]
    rows = []
    for _ in range(n):
        user_id = random.choice(user_ids) if random.random() > 0.2 else None
        event_type = random.choice(EVENT_TYPES)
        event_ts = fake.date_time_between(start_date="-3m", end_date="now")
        metadata: dict[str, object]
        if event_type == "page_view":
            metadata = {"page_url": fake.uri_path(), "device": random.choice(["mobile", "desktop", "tablet"])}
        elif event_type == "add_to_cart":
            metadata = {"product_id": random.randint(1, 200), "quantity": random.randint(1, 3)}
        else:
            metadata = {}
        rows.append((user_id, event_type, event_ts, json.dumps(metadata)))
    _insert(conn, "INSERT INTO events (user_id, event_type, event_ts, metadata) VALUES (%s, %s, %s, %s)", rows)
    return n


def _crm_contacts(conn, fake: Faker, n: int) -> int:
    rows = []
    for _ in range(n):
        converted = random.random() > 0.6
        created_at = fake.date_time_between(start_date="-1y", end_date="now")
        rows.append(
            (
                fake.unique.email(),
                fake.first_name(),
                fake.last_name(),
                random.choice(SOURCES),
                f"CAMP_{random.randint(1000, 9999)}",
                created_at,
                converted,
                fake.date_time_between(start_date=created_at, end_date="now") if converted else None,
            )
        )
    _insert(
        conn,
        "INSERT INTO crm_contacts (email, first_name, last_name, source, campaign_id, created_at, converted,"
        " converted_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        rows,
    )
    return n
