"""Operations: the last runs of the pipeline (CLI and Airflow), failures, freshness of each RAW table, durations."""

import streamlit as st

from dashboard import data, filters

source = filters.current_source()

st.title("Operations")
runs = data.run_history(source)
if runs is None or runs.empty:
    st.info(
        f"Stack `{source.stack}` has no run history yet: it is recorded by `shopstream run`, `load`, `transform` "
        "and the Airflow DAG on a local (DuckDB) stack.",
        icon=":material/history:",
    )
else:
    last = runs.iloc[0]
    failures = runs[runs["outcome"] != "success"]
    cards = st.columns(3)
    cards[0].metric("Last run", f"{last['command']} · {last['outcome']}", border=True)
    cards[1].metric("Runs recorded", f"{len(runs):,}", border=True)
    cards[2].metric("Not successful", f"{len(failures):,}", border=True)
    st.subheader("Last runs")
    st.dataframe(runs.head(20), hide_index=True)
    if not failures.empty:
        st.subheader("Failures")
        st.dataframe(failures[["started_at", "command", "exit_code", "error"]].head(20), hide_index=True)
    st.subheader("Duration of whole runs")
    whole = runs[runs["command"].isin(["run", "shopstream_daily"])].sort_values("started_at")
    if whole.empty:
        st.caption("No whole run (`shopstream run` or the daily DAG) recorded yet.")
    else:
        st.line_chart(whole, x="started_at", y="seconds")

st.subheader("Freshness of RAW")
fresh = data.freshness(source)
if fresh is None or fresh.empty:
    st.caption("Nothing loaded into RAW yet.")
else:
    st.dataframe(fresh, hide_index=True)
