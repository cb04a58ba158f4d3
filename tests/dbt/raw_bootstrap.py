"""A small, deterministic RAW layer written straight into a DuckDB file, for dbt tests that need no source.

The tables follow the RAW contract (source columns + `_source_file` with its `dt=` partition + `_loaded_at`, JSON
metadata as text). Three loads, each a full snapshot like `shopstream extract` writes: the first, a second where
pending orders moved on and one user was deleted in the source, and then a back-filled partition of an OLDER date
(loaded last) that must not win over the second.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd

FIRST_DAY = datetime(2024, 1, 1)
DAYS = 400
STATUSES = ["pending", "paid", "shipped", "delivered", "cancelled"]
CATEGORIES = ["Electronics", "Books", "Home", "Sports", "Toys"]
SOURCES = ["organic", "paid_ads", "referral", "email_campaign"]
DEVICES = ["desktop", "mobile", "tablet"]

RAW_DDL = {
    "users": """id INTEGER, email VARCHAR, first_name VARCHAR, last_name VARCHAR, country VARCHAR, plan_type VARCHAR,
        created_at TIMESTAMP, updated_at TIMESTAMP, last_login TIMESTAMP, is_active BOOLEAN""",
    "products": """id INTEGER, merchant_id INTEGER, name VARCHAR, description VARCHAR, category VARCHAR,
        price DECIMAL(10,2), stock_quantity INTEGER, created_at TIMESTAMP, updated_at TIMESTAMP""",
    "orders": """id INTEGER, user_id INTEGER, created_at TIMESTAMP, updated_at TIMESTAMP, total_amount DECIMAL(10,2),
        status VARCHAR, country VARCHAR, payment_method VARCHAR""",
    "order_items": """id INTEGER, order_id INTEGER, product_id INTEGER, quantity INTEGER, unit_price DECIMAL(10,2),
        line_total DECIMAL(10,2)""",
    "events": "id BIGINT, user_id INTEGER, event_type VARCHAR, event_ts TIMESTAMP, metadata VARCHAR",
    "crm_contacts": """id INTEGER, email VARCHAR, first_name VARCHAR, last_name VARCHAR, source VARCHAR,
        campaign_id VARCHAR, created_at TIMESTAMP, converted BOOLEAN, converted_at TIMESTAMP""",
}


def _at(rng: random.Random, start: datetime = FIRST_DAY, days: int = DAYS) -> datetime:
    return start + timedelta(seconds=rng.randrange(days * 86400))


def generate(seed: int = 7) -> dict[str, list[dict]]:
    """Rows of the six source tables, consistent with the OLTP schema's constraints."""
    rng = random.Random(seed)
    users = []
    for i in range(1, 61):
        created = _at(rng, days=200)
        users.append(
            dict(
                id=i,
                email=f" User{i}@Example.COM " if i % 7 == 0 else f"user{i}@example.com",
                first_name=f"First{i}",
                last_name=f"Last{i}",
                country=rng.choice(["fr", "DE", "es", "US"]),
                plan_type=rng.choice(["freemium", "freemium", "premium", "enterprise"]),
                created_at=created,
                updated_at=created,
                last_login=created + timedelta(days=3),
                is_active=True,
            )
        )
    products = [
        dict(
            id=i,
            merchant_id=1 + i % 4,
            name=f"Product {i}",
            description=None,
            category=CATEGORIES[i % 5],
            price=Decimal(rng.randrange(500, 20000)) / 100,
            stock_quantity=0 if i == 3 else rng.randrange(1, 90),
            created_at=FIRST_DAY,
            updated_at=FIRST_DAY,
        )
        for i in range(1, 26)
    ]
    orders, items = [], []
    for order_id in range(1, 301):
        user = rng.choice(users)
        created = max(_at(rng), user["created_at"])
        lines = []
        for _ in range(rng.randint(1, 3)):
            product = rng.choice(products[:20])  # five products never sell
            qty = rng.randint(1, 4)
            lines.append(
                dict(
                    id=len(items) + len(lines) + 1,
                    order_id=order_id,
                    product_id=product["id"],
                    quantity=qty,
                    unit_price=product["price"],
                    line_total=product["price"] * qty,
                )
            )
        items.extend(lines)
        orders.append(
            dict(
                id=order_id,
                user_id=user["id"],
                created_at=created,
                updated_at=created,
                total_amount=sum(line["line_total"] for line in lines),
                status=rng.choice(STATUSES),
                country=user["country"],
                payment_method=rng.choice(["Stripe", "paypal", "credit_card"]),
            )
        )
    events = []
    # Tracking loses events: the last session purchases without a recorded checkout (the funnel must not count it
    # as a purchase step reached in order).
    for session in range(1, 152):
        user = rng.choice(users)
        start, device, steps = _at(rng), rng.choice(DEVICES), rng.randint(1, 4)
        kinds = ["page_view", "add_to_cart", "checkout_start", "purchase"][:steps]
        if session == 151:
            kinds = ["page_view", "purchase"]
        for step, kind in enumerate(kinds):
            meta = {"session_id": f"s-{session}", "device": device}
            if kind == "page_view":
                meta["page_url"] = "/products"
            if kind == "add_to_cart":
                meta.update(product_id=rng.randint(1, 25), quantity=rng.randint(1, 3))
            if kind == "purchase":
                meta["order_id"] = rng.randint(1, 300)
            events.append(
                dict(
                    id=len(events) + 1,
                    user_id=user["id"],
                    event_type=kind,
                    event_ts=start + timedelta(minutes=step),
                    metadata=json.dumps(meta),
                )
            )
    contacts = []
    for i in range(1, 81):
        converted = i <= 50
        created = _at(rng, days=150)
        contacts.append(
            dict(
                id=i,
                email=f"user{i}@example.com",
                first_name=None,
                last_name=None,
                source=SOURCES[i % 4],
                campaign_id=None,
                created_at=created,
                converted=converted,
                converted_at=created + timedelta(days=2) if converted else None,
            )
        )
    return dict(users=users, products=products, orders=orders, order_items=items, events=events, crm_contacts=contacts)


DELETED_USER = 61  # in the first snapshot only: deleted in the source before the second extraction


@dataclass(frozen=True)
class Snapshot:
    """One load: rows per table, the extraction date of their lake partition, and when they were loaded."""

    rows: dict[str, list[dict]]
    extract_date: date
    loaded_at: datetime


def snapshots(seed: int = 7) -> tuple[list[Snapshot], dict[str, list[dict]]]:
    """Three loads of the source and the rows staging must show (the latest extraction date's)."""
    first = generate(seed)
    first["users"].append(
        dict(first["users"][0], id=DELETED_USER, email=f"user{DELETED_USER}@example.com", first_name="Gone")
    )
    latest = {table: [dict(row) for row in rows] for table, rows in first.items()}
    latest["users"] = [row for row in latest["users"] if row["id"] != DELETED_USER]
    # By the second extraction some pending orders got paid.
    for row in latest["orders"]:
        if row["status"] == "pending" and row["id"] % 2 == 0:
            row["status"] = "paid"
            row["updated_at"] = row["updated_at"] + timedelta(hours=1)
    # A back-fill of the day before the first extraction, loaded after everything else: older data, newer load.
    backfill = {"orders": first["orders"], "users": first["users"]}
    loads = [
        Snapshot(first, date(2025, 3, 1), datetime(2025, 3, 1, 6)),
        Snapshot(latest, date(2025, 3, 2), datetime(2025, 3, 2, 6)),
        Snapshot(backfill, date(2025, 2, 28), datetime(2025, 3, 3, 6)),
    ]
    return loads, latest


def source_file(table: str, extract_date: date) -> str:
    return f"raw/{table}/dt={extract_date}/part-0000.parquet"


def write_raw(path: Path, seed: int = 7) -> dict[str, list[dict]]:
    """Create RAW in the DuckDB file at `path` and load the snapshots; return the rows of the latest one."""
    loads, latest = snapshots(seed)
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS RAW")
        for table, ddl in RAW_DDL.items():
            con.execute(f"CREATE OR REPLACE TABLE RAW.{table} ({ddl}, _source_file VARCHAR, _loaded_at TIMESTAMP)")
        for snapshot in loads:
            for table, rows in snapshot.rows.items():
                frame = pd.DataFrame(rows)
                frame["_source_file"] = source_file(table, snapshot.extract_date)
                frame["_loaded_at"] = snapshot.loaded_at
                con.register("frame", frame)
                con.execute(f"INSERT INTO RAW.{table} BY NAME SELECT * FROM frame")
                con.unregister("frame")
    finally:
        con.close()
    return latest


def completed_revenue(latest: dict[str, list[dict]]) -> Decimal:
    """Revenue of paid, shipped and delivered orders, computed in Python from the generated rows."""
    completed = {o["id"] for o in latest["orders"] if o["status"] in ("paid", "shipped", "delivered")}
    return sum((i["line_total"] for i in latest["order_items"] if i["order_id"] in completed), Decimal(0))
