"""The whole stream on real parts (PostgreSQL, a lake folder, DuckDB, dbt): counts agree across PostgreSQL, RAW and
the live marts; a restart continues the simulated clock; kill -9 mid-stream loses and duplicates nothing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from pipeline.lake import Lake
from pipeline.settings import Settings
from pipeline.stream import run_stream
from pipeline.stream.capture import capture_batch
from pipeline.stream.load import LiveRefresher
from pipeline.stream.simulate import simulate_minute
from pipeline.stream.tables import STREAM_PREFIX
from pipeline.transform import prepared_project
from tests.helpers.stream import connect, lake_root, prepared

FAST = {"speed": 900.0, "batch_seconds": 1.0}  # 15 simulated minutes per real second


def _counts(settings: Settings) -> tuple[int, int, int, int]:
    """(PostgreSQL streamed orders, RAW distinct streamed orders, live-mart orders, Σ orders of the hourly mart)."""
    with connect(settings) as conn:
        (pg,) = conn.execute("SELECT count(DISTINCT row_id) FROM stream_changes WHERE table_name = 'orders'").fetchone()
    with duckdb.connect(str(settings.warehouse.path), read_only=True) as con:
        (raw,) = con.execute(
            "SELECT count(DISTINCT id) FROM RAW.orders WHERE _source_file LIKE 'raw/stream/%'"
        ).fetchone()
        (mart,) = con.execute("SELECT count(*) FROM MARTS.mart_live_orders").fetchone()
        (hourly,) = con.execute("SELECT coalesce(sum(orders), 0) FROM MARTS.mart_live_hourly").fetchone()
    return pg, raw, mart, hourly


def _assert_no_duplicate_batches(settings: Settings) -> None:
    lake = Lake.from_settings(settings.lake)
    files = lake.list_files(STREAM_PREFIX)
    batches_per_table = Counter((key.split("/")[2], key.rsplit("/", 1)[1]) for key in files)
    assert files and max(batches_per_table.values()) == 1  # one file per table and batch number, whatever the dt
    with connect(settings) as conn:
        journal = conn.execute("SELECT batch_no, files, rows, loaded_at FROM stream_batches ORDER BY 1").fetchall()
    assert [row[0] for row in journal] == list(range(1, len(journal) + 1))
    assert all(row[3] is not None for row in journal)
    assert sum(row[1] for row in journal) == len(files)
    manifests = [lake.read_json(f"{STREAM_PREFIX}/_manifests/batch-{n:08d}.json") for n, *_ in journal]
    with duckdb.connect(str(settings.warehouse.path), read_only=True) as con:
        for manifest in manifests:
            for entry in manifest["files"]:
                table = entry["table"]
                (loaded,) = con.execute(
                    f'SELECT count(*) FROM RAW."{table}" WHERE _source_file = ?', [entry["key"]]
                ).fetchone()
                assert loaded == entry["rows"], entry["key"]  # every published file loaded exactly once


def test_stream_counts_agree_and_restart_continues_the_clock(stream_stack, tmp_path):
    settings = stream_stack()
    first = run_stream(settings, duration=2.0, **FAST)
    assert first.orders > 0 and first.batches > 0
    assert first.latency_s["p50"] is not None and first.latency_s["p50"] <= first.latency_s["max"]
    assert set(first.steps_s) == {"capture", "load", "refresh"}  # where a batch's time goes, step by step
    assert all(0 < step["p50"] <= step["max"] for step in first.steps_s.values())
    pg, raw, mart, hourly = _counts(settings)
    assert pg == raw == mart == hourly == first.orders

    second = run_stream(settings, duration=1.0, **FAST)
    assert second.sim_start == first.sim_end  # the clock continues where it stopped
    pg, raw, mart, hourly = _counts(settings)
    assert pg == raw == mart == hourly == first.orders + second.orders
    _assert_no_duplicate_batches(settings)
    with duckdb.connect(str(settings.warehouse.path), read_only=True) as con:
        (cancelled,) = con.execute("SELECT sum(cancelled_for_stock) FROM MARTS.mart_live_hourly").fetchone()
        (negative,) = con.execute("SELECT count(*) FROM MARTS.mart_live_stock WHERE stock_quantity < 0").fetchone()
    assert cancelled == first.cancelled_for_stock + second.cancelled_for_stock
    assert negative == 0


def test_a_cancellation_loaded_after_its_orders_refresh_still_reaches_the_live_marts(stream_stack):
    """A refresh saw the order without its cancellation (that file reached RAW later): the next refresh mends it."""
    settings = stream_stack()
    report = run_stream(settings, duration=2.0, **FAST)
    assert report.cancelled_for_stock > 0
    with duckdb.connect(str(settings.warehouse.path)) as con:
        order_id, order_hour = con.execute(
            "SELECT order_id, order_hour FROM MARTS.mart_live_orders WHERE is_cancelled_for_stock ORDER BY 1 LIMIT 1"
        ).fetchone()
        # The state a refresh leaves when it sees the order but not yet its cancellation, which then lands in RAW.
        con.execute(
            "UPDATE MARTS.mart_live_orders SET is_cancelled_for_stock = false, short_product_id = NULL,"
            " loaded_at = (SELECT max(_loaded_at) FROM RAW.orders WHERE id = ?) WHERE order_id = ?",
            [order_id, order_id],
        )
        con.execute(
            "UPDATE MARTS.mart_live_hourly SET cancelled_for_stock = cancelled_for_stock - 1 WHERE order_hour = ?",
            [order_hour],
        )
        con.execute(
            "UPDATE RAW.order_cancellations SET _loaded_at = now()::TIMESTAMP + INTERVAL 1 SECOND WHERE order_id = ?",
            [order_id],
        )

    refresher = LiveRefresher(settings)
    refresher.refresh()

    with duckdb.connect(str(settings.warehouse.path), read_only=True) as con:
        (flagged,) = con.execute(
            "SELECT is_cancelled_for_stock FROM MARTS.mart_live_orders WHERE order_id = ?", [order_id]
        ).fetchone()
        (cancelled,) = con.execute("SELECT sum(cancelled_for_stock) FROM MARTS.mart_live_hourly").fetchone()
    assert flagged is True
    assert cancelled == report.cancelled_for_stock


def test_kill_9_mid_stream_then_restart_gives_exact_counts(stream_stack):
    """…and the stream process, new on a new stack, refreshes from the parse saved in the user's cache: dbt
    parses nowhere, so it writes no partial-parse file for the stack."""
    settings = stream_stack()
    prepared_project(settings).manifest_for(settings, {})  # the project's parse in the cache, if no test put it there
    partial_parses = settings.home / "dbt" / "target"
    shutil.rmtree(partial_parses, ignore_errors=True)  # where that parse, had it been this process's, was noted
    env = {
        **os.environ,
        "SHOPSTREAM_PG_DSN": settings.source.dsn.get_secret_value(),
        "SHOPSTREAM_LAKE_URI": settings.lake.uri,
    }
    shopstream = str(Path(sys.executable).with_name("shopstream"))
    command = [shopstream, "stream", "--stack", settings.stack, "--duration", "60",
               "--speed", "900", "--batch-seconds", "0.5"]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_batches(settings, at_least=2, timeout=180)
        time.sleep(0.3)  # somewhere inside the next capture / publish / load / refresh
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert list(partial_parses.rglob("partial_parse.msgpack")) == []
    resumed = run_stream(settings, duration=1.0, **FAST)
    pg, raw, mart, hourly = _counts(settings)
    assert pg == raw == mart == hourly
    assert resumed.orders < pg  # the killed run's orders are there too
    _assert_no_duplicate_batches(settings)


def _wait_for_batches(settings: Settings, at_least: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with connect(settings) as conn:
                (n,) = conn.execute("SELECT count(*) FROM stream_batches WHERE loaded_at IS NOT NULL").fetchone()
            if n >= at_least:
                return
        except Exception:  # the table does not exist until the stream has started
            pass
        time.sleep(0.2)
    pytest.fail(f"the stream published fewer than {at_least} batches in {timeout}s")


def test_a_batch_redone_after_a_crash_reuses_its_file_names(stream_stack):
    """A crash after the files but before the manifest and journal: the redo overwrites the same keys."""
    settings = stream_stack()
    conn, catalog = prepared(settings)
    simulate_minute(conn, catalog, datetime(2026, 1, 1), seed=1)
    lake = Lake.from_settings(settings.lake)
    lake_root(settings).mkdir(parents=True, exist_ok=True)

    class CrashBeforeManifest(Exception):
        pass

    original = lake.write_json
    lake.write_json = lambda key, doc: (_ for _ in ()).throw(CrashBeforeManifest())  # type: ignore[method-assign]
    with pytest.raises(CrashBeforeManifest):
        capture_batch(conn, lake)
    crashed_files = set(lake.list_files(STREAM_PREFIX))
    lake.write_json = original  # type: ignore[method-assign]
    simulate_minute(conn, catalog, datetime(2026, 1, 1, 0, 1), seed=1)
    batch = capture_batch(conn, lake)
    assert batch is not None and batch.batch_no == 1
    # the redo covers a window at least as wide: it rewrites every name the crashed attempt wrote, adds no twin
    assert crashed_files and crashed_files <= set(batch.files) == set(lake.list_files(STREAM_PREFIX))
    manifest = json.loads((lake_root(settings) / batch.manifest_key).read_text())
    assert sum(e["rows"] for e in manifest["files"] if e["table"] == "orders") == len(batch.new_orders)
