"""Data quality: each business rule's failure rate against its thresholds, and the history across runs."""

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboard import filters
from pipeline.quality import STATUS_MARK, read_history

source, _ = filters.current()
st.title("Data quality")
st.caption(
    "Rules on the source data as loaded (valid emails, positive amounts, coherent dates, referential integrity, "
    "freshness), measured at every build: a rule warns above its warn threshold and fails the build above its fail "
    "threshold. Written by `shopstream run` (or `shopstream quality`)."
)
history = read_history(source.settings())
if not history:
    st.info("No data-quality report yet: run `shopstream run` or `shopstream quality`.", icon=":material/info:")
    st.stop()

latest = history[-1]
rules = pd.DataFrame(latest["rules"])
cards = st.columns(3)
for card, status in zip(cards, ("pass", "warn", "fail"), strict=True):
    card.metric(STATUS_MARK[status], int((rules["status"] == status).sum()), border=True)
st.subheader(f"Latest run: {latest['measured_at']}")
table = rules.assign(status=rules["status"].map(STATUS_MARK))[
    ["rule_name", "checked_model", "rule", "checked_rows", "failed_rows", "failure_rate", "warn_above_rate",
     "fail_above_rate", "status"]
].rename(columns={
    "rule_name": "Rule", "checked_model": "Model", "rule": "Check", "checked_rows": "Rows", "failed_rows": "Failed",
    "failure_rate": "Rate", "warn_above_rate": "Warn above", "fail_above_rate": "Fail above", "status": "Status",
})  # fmt: skip
st.dataframe(
    table.style.format({"Rate": "{:.2%}", "Warn above": "{:.2%}", "Fail above": "{:.2%}", "Rows": "{:,}"}),
    hide_index=True,
)

st.subheader(f"History ({len(history)} runs)")
runs = pd.DataFrame(
    [
        {"measured_at": run["measured_at"], "rule": rule["rule_name"], "failure_rate": rule["failure_rate"]}
        for run in history
        for rule in run["rules"]
    ]
)
chart = px.line(runs, x="measured_at", y="failure_rate", color="rule", markers=True, title="Failure rate per run")
chart.update_layout(yaxis_tickformat=".1%", xaxis_title=None, yaxis_title=None)
st.plotly_chart(chart)
