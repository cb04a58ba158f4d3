"""The stream's state in the source PostgreSQL: its tables, the simulated clock and the one-stream-per-stack lock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources

import psycopg

from pipeline.errors import ShopstreamError
from pipeline.rows import one_row

# Any fixed number: a session-level advisory lock on it means "a stream runs on this database". PostgreSQL drops it
# with the session, so a stream killed with -9 never leaves a stale lock behind (unlike a flag in a table).
STREAM_LOCK_KEY = 7_366_823_518
SCHEMA_LOCK_KEY = 7_366_823_517  # the same key as the source schema: applying both never interleaves


def stream_schema_sql() -> str:
    return resources.files("pipeline.stream").joinpath("schema.sql").read_text()


def apply_stream_schema(conn: psycopg.Connection) -> None:
    """Create the stream's tables if missing (idempotent; leaves existing rows alone)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
        conn.execute(stream_schema_sql())


def acquire_stream_lock(conn: psycopg.Connection, stack: str) -> None:
    """Hold the stack's stream lock for the life of `conn`, or fail with one line when another stream has it."""
    (acquired,) = one_row(conn.execute("SELECT pg_try_advisory_lock(%s)", (STREAM_LOCK_KEY,)))
    conn.commit()
    if not acquired:
        raise ShopstreamError(
            f"a stream is already running on stack {stack!r}; stop it (Ctrl+C) or wait for it to finish"
        )


def check_base_data(conn: psycopg.Connection, stack: str) -> None:
    """Orders need customers and products: refuse to start on an empty source."""
    users, products = one_row(conn.execute("SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM products)"))
    conn.commit()
    if not users or not products:
        raise ShopstreamError(
            f"stack {stack!r} has no base data ({users} users, {products} products); "
            f"run `shopstream generate --stack {stack}` first"
        )


@dataclass(frozen=True)
class SimClock:
    sim_time: datetime
    speed: float
    seed: int


def start_clock(conn: psycopg.Connection, speed: float, seed: int) -> SimClock:
    """Mark the clock running at `speed`; a first start begins at the next minute after the latest order.

    A restart keeps the stored simulated time (and seed), so the simulation continues where it stopped.
    """
    with conn.transaction():
        row = conn.execute("SELECT sim_time, seed FROM sim_clock FOR UPDATE").fetchone()
        if row is None:
            (latest,) = one_row(conn.execute("SELECT coalesce(max(created_at), localtimestamp(0)) FROM orders"))
            start = latest.replace(second=0, microsecond=0) + timedelta(minutes=1)
            conn.execute(
                "INSERT INTO sim_clock (sim_time, speed, running, seed) VALUES (%s, %s, true, %s)",
                (start, speed, seed),
            )
            return SimClock(start, speed, seed)
        sim_time, stored_seed = row
        conn.execute("UPDATE sim_clock SET speed = %s, running = true, updated_at = clock_timestamp()", (speed,))
        return SimClock(sim_time, speed, stored_seed)


def stop_clock(conn: psycopg.Connection) -> None:
    with conn.transaction():
        conn.execute("UPDATE sim_clock SET running = false, updated_at = clock_timestamp()")


def read_clock(conn: psycopg.Connection) -> SimClock | None:
    row = conn.execute("SELECT sim_time, speed, seed FROM sim_clock").fetchone()
    conn.commit()
    return None if row is None else SimClock(row[0], float(row[1]), row[2])
