"""Live: the stream's last simulated hours (orders, revenue, stock cancellations), stock-outs, and its latency.

Refreshes itself every few seconds while `shopstream stream` runs; reads the live marts only.
"""

import json
from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard import formatting as fmt
from pipeline.stream.run import status_path

REFRESH_S = 5
HOURS_SHOWN = 12
LIVE_MARTS = ("mart_live_hourly", "mart_live_stock")

source = data.source_from_env()
st.title("Live")
st.caption(f"Simulated hours streamed by `shopstream stream --stack {source.stack}`; refreshes every {REFRESH_S} s.")


def latest_status() -> dict | None:
    path = status_path(source.settings())
    return json.loads(path.read_text()) if path.exists() else None


@st.fragment(run_every=REFRESH_S)
def live_panel() -> None:
    if not set(LIVE_MARTS) <= data.available_marts(source):
        st.info(f"No live marts yet: run `shopstream stream --stack {source.stack}`.", icon=":material/stream:")
        return
    try:
        hourly = data.read(
            source,
            f"select * from {source.table('mart_live_hourly')} order by order_hour desc limit {HOURS_SHOWN}",
        )
        stock = data.read(
            source,
            f"select product_id, stock_quantity, stock_outs from {source.table('mart_live_stock')}"
            " where stock_outs > 0 or is_out_of_stock order by stock_outs desc, product_id limit 20",
        )
    except data.WarehouseBusy:
        st.caption("The stream is loading a batch: the figures refresh in a moment.")
        return
    status = latest_status()
    cards = st.columns(4)
    cards[0].metric("Orders (last hours)", fmt.count(int(hourly["orders"].sum())) if len(hourly) else "0", border=True)
    cards[1].metric(
        "Revenue (last hours)", fmt.money(float(hourly["revenue"].sum())) if len(hourly) else "-", border=True
    )
    cards[2].metric(
        "Cancelled for stock", fmt.count(int(hourly["cancelled_for_stock"].sum())) if len(hourly) else "0", border=True
    )
    latency = (status or {}).get("latency_s", {}).get("max")
    cards[3].metric(
        "End-to-end latency",
        f"{latency:.1f} s" if latency is not None else "-",
        border=True,
        help="Last batch: the slowest order's time from its PostgreSQL commit to the refreshed live marts.",
    )
    if status:
        age = (datetime.now(UTC) - datetime.fromisoformat(status["visible_at"])).total_seconds()
        st.caption(f"Batch {status['batch_no']} ({status['rows']} rows) became visible {age:.0f} s ago.")
    if len(hourly):
        chart = hourly.sort_values("order_hour").set_index("order_hour")
        st.subheader("Orders and stock cancellations per simulated hour")
        st.bar_chart(chart[["accepted_orders", "cancelled_for_stock"]])
        st.subheader("Revenue per simulated hour")
        st.line_chart(chart[["revenue"]])
    st.subheader("Stock-outs")
    st.dataframe(pd.DataFrame(stock), hide_index=True)


live_panel()
