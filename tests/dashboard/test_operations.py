"""The Operations page shows the run history and the freshness of RAW (Streamlit AppTest, real built stack)."""

from __future__ import annotations

from pipeline.runs import RunRecord, record


def test_operations_page_shows_last_runs_failures_and_freshness(app, marts_stack) -> None:
    assert record(marts_stack, RunRecord(origin="cli", command="run").finish(0))
    failed = RunRecord(origin="airflow", command="shopstream_daily").finish(1, "load_orders failed: disk full")
    assert record(marts_stack, failed)

    at = app("views/operations.py")

    assert [title.value for title in at.title] == ["Operations"]
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["Last run"] == "shopstream_daily · failed"
    assert int(metrics["Not successful"]) >= 1
    tables = [frame.value for frame in at.dataframe]
    assert any("load_orders failed: disk full" in set(frame.get("error", [])) for frame in tables)
    freshness = next(frame for frame in tables if "table_name" in frame.columns)
    assert set(freshness["table_name"]) == {"users", "products", "orders", "order_items", "events", "crm_contacts"}
