"""Products: the Pareto (ABC) view of revenue and the ranked product table."""

import streamlit as st

from dashboard import charts, data, filters
from dashboard import formatting as fmt

COLUMNS = [
    "revenue_rank",
    "product_name",
    "product_category",
    "total_revenue",
    "total_orders",
    "abc_class",
    "performance_tier",
]

source = filters.current_source()
st.title("Products")
st.caption(
    "Rankings cover every completed sale of the stack: the date and country filters do not apply on this page. "
    "Class A: the products making the first 80 % of revenue; B: the next 15 %; C: the rest."
)
ranked = data.products(source)
if ranked.empty:
    st.info("No product has a completed sale yet.")
    st.stop()

for card, (abc_class, rows) in zip(st.columns(3), ranked.groupby("abc_class", sort=True), strict=False):
    share = rows["total_revenue"].sum() / ranked["total_revenue"].sum()
    card.metric(
        f"Class {abc_class} products",
        fmt.count(len(rows)),
        border=True,
        help=f"{fmt.percent(share)} of revenue from {fmt.percent(len(rows) / len(ranked))} of the products sold.",
    )

st.plotly_chart(charts.pareto(ranked))
st.dataframe(
    ranked,
    hide_index=True,
    column_order=COLUMNS,
    column_config={
        "revenue_rank": st.column_config.NumberColumn("Rank", format="%d"),
        "product_name": "Product",
        "product_category": "Category",
        "total_revenue": st.column_config.NumberColumn("Revenue", format="euro"),
        "total_orders": st.column_config.NumberColumn("Orders", format="localized"),
        "abc_class": "ABC class",
        "performance_tier": "Tier",
    },
)
