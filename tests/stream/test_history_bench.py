"""The history scenario of the stream bench (bench/stream_history.py) on real parts: its fast-forward copies exactly
the rows the first batches wrote, under new ids and shifted times, and the live marts take them all in."""

from __future__ import annotations

from datetime import timedelta

import duckdb

from bench.stream_history import measure_history

REAL = "_source_file LIKE 'raw/stream/%/dt=%'"  # rows of published batches
COPIED = "_source_file LIKE 'raw/stream/%/history-%'"  # rows of the fast-forward


def test_history_probes_day_one_and_day_n_over_a_fast_forwarded_warehouse(stream_stack):
    settings = stream_stack()
    result = measure_history(settings, days=2, probe_batches=2, batch_minutes=3)
    first, last = result["day_1"], result["day_2"]
    assert first["refresh_s"]["p50"] > 0 and last["refresh_s"]["p50"] > 0 and result["slowdown"] > 0
    copies = int(timedelta(days=1) / timedelta(minutes=2 * 3))  # one simulated day of the 6 probed minutes
    with duckdb.connect(str(settings.warehouse.path), read_only=True) as con:
        (real,) = con.execute(f"SELECT count(*) FROM RAW.orders WHERE {REAL}").fetchone()
        copied, lowest_copy = con.execute(f"SELECT count(*), min(id) FROM RAW.orders WHERE {COPIED}").fetchone()
        (highest_real,) = con.execute(f"SELECT max(id) FROM RAW.orders WHERE {REAL}").fetchone()
        (orders,) = con.execute(
            "SELECT count(DISTINCT id) FROM RAW.orders WHERE _source_file LIKE 'raw/stream/%'"
        ).fetchone()
        (mart,) = con.execute("SELECT count(*) FROM MARTS.mart_live_orders").fetchone()
        (hours,) = con.execute("SELECT count(*) FROM MARTS.mart_live_hourly").fetchone()
        (span,) = con.execute(
            "SELECT date_diff('hour', min(order_hour), max(order_hour)) FROM MARTS.mart_live_orders"
        ).fetchone()
    assert copied == copies * first["warehouse"]["raw_orders"]  # every row written before the copy, once per copy
    assert lowest_copy > highest_real  # new ids: no copy collides with a real order
    assert last["warehouse"]["raw_orders"] == real + copied
    assert mart == orders == last["warehouse"]["mart_live_orders"]  # the marts took every copied order in
    assert 24 <= span <= 25 and hours >= 24  # the copies fill the simulated day between the probes
