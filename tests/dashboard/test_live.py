"""The Live page on a warehouse whose live marts hold known rows, and the stream's status file (AppTest)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipeline.settings import local_settings
from pipeline.stream.run import status_path

LIVE_PAGE = Path(__file__).resolve().parents[2] / "dashboard" / "views" / "live.py"


def test_live_page_shows_the_last_hours_stock_outs_and_latency(shopstream_home: Path, serve_stack):
    from streamlit.testing.v1 import AppTest

    stack_dir = shopstream_home / "livestack"
    stack_dir.mkdir()
    con = duckdb.connect(str(stack_dir / "shopstream.duckdb"))
    try:
        con.execute("""
            CREATE SCHEMA MARTS;
            CREATE TABLE MARTS.mart_live_hourly AS SELECT * FROM (VALUES
                (TIMESTAMP '2026-01-01 10:00', 12, 10, 250.50::DECIMAL(12,2), 2, TIMESTAMP '2026-12-01 10:00'),
                (TIMESTAMP '2026-01-01 11:00', 8, 7, 100.00::DECIMAL(12,2), 1, TIMESTAMP '2026-12-01 10:00'))
                t(order_hour, orders, accepted_orders, revenue, cancelled_for_stock, last_loaded_at);
            CREATE TABLE MARTS.mart_live_stock AS SELECT * FROM (VALUES
                (7, 0, 3, true), (8, 5, 0, false)) t(product_id, stock_quantity, stock_outs, is_out_of_stock);
        """)
    finally:
        con.close()
    status = status_path(local_settings("livestack"))
    status.parent.mkdir(parents=True)
    status.write_text(
        json.dumps(
            {
                "batch_no": 4,
                "visible_at": datetime.now(UTC).isoformat(),
                "rows": 31,
                "new_orders": 3,
                "latency_s": {"p50": 2.5, "p95": 3.0, "max": 3.25},
            }
        )
    )
    serve_stack("livestack")
    at = AppTest.from_file(str(LIVE_PAGE), default_timeout=60).run()
    assert not at.exception
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["Orders (last hours)"] == "20"
    assert metrics["Cancelled for stock"] == "3"
    assert metrics["End-to-end latency"] == "3.2 s"
    (stock_outs,) = at.dataframe
    assert list(stock_outs.value["product_id"]) == [7]
    assert any("Batch 4 (31 rows)" in caption.value for caption in at.caption)


def test_live_page_without_live_marts_says_what_to_run(shopstream_home: Path, serve_stack):
    from streamlit.testing.v1 import AppTest

    (shopstream_home / "nolive").mkdir()
    serve_stack("nolive")
    at = AppTest.from_file(str(LIVE_PAGE), default_timeout=60).run()
    assert not at.exception
    assert "shopstream stream --stack nolive" in at.info[0].value
