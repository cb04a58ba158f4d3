"""Customers: RFM segments, lifetime value per segment and the top customers with their churn risk."""

import pandas as pd
import streamlit as st

from dashboard import charts, data, filters
from dashboard import formatting as fmt
from dashboard.privacy import mask_people

CHURN_STYLES = {
    "High": "background-color: #fdecea; color: #b71c1c; font-weight: 600",
    "Medium": "background-color: #fff4e5; color: #8a5300",
    "Low": "background-color: #e8f5e9; color: #1b5e20",
}
TOP = 100

source, selection = filters.current()
period = (source, selection.start, selection.end, selection.countries)

st.title("Customers")
st.caption(
    "Customers of the selected countries whose ordering span (first to last completed order) meets the date range. "
    "Lifetime value and RFM scores cover all their completed orders."
)
segments = data.customer_segments(*period)
if segments.empty:
    st.info(
        f"No customer of {', '.join(selection.countries)} ordered between {fmt.day(selection.start)} and "
        f"{fmt.day(selection.end)}: widen the date range or choose other countries.",
        icon=":material/search_off:",
    )
    st.stop()

customers = int(segments["customers"].sum())
lifetime_value = float(segments["lifetime_value"].sum())
top = mask_people(data.top_customers(*period, limit=TOP))  # no raw email or name unless entitled
cards = st.columns(3)
cards[0].metric("Customers", fmt.count(customers), border=True)
cards[1].metric("Lifetime value", fmt.money(lifetime_value), border=True, help="Revenue of their completed orders.")
cards[2].metric("Average lifetime value", fmt.money(lifetime_value / customers, decimals=2), border=True)

left, right = st.columns(2)
left.plotly_chart(charts.customers_by_segment(segments))
right.plotly_chart(charts.lifetime_value_by_segment(segments))


def churn_style(risk: str) -> str:
    return CHURN_STYLES.get(risk, "")


st.subheader(f"Top {min(TOP, len(top))} customers by lifetime value")
table = top.rename(
    columns={
        "customer_name": "Name",
        "email": "Email",
        "country_code": "Country",
        "lifetime_value": "Lifetime value",
        "completed_orders": "Orders",
        "rfm_segment": "Segment",
        "churn_risk": "Churn risk",
    }
)
styled: pd.io.formats.style.Styler = table.style.format(
    {"Lifetime value": lambda v: fmt.money(v, decimals=2), "Orders": fmt.count}
).map(churn_style, subset=["Churn risk"])
st.dataframe(styled, hide_index=True)
