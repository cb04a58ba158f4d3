"""Funnel: web sessions from page view to purchase, and CRM contacts from contact to first order by source."""

import pandas as pd
import streamlit as st

from dashboard import charts, data, filters
from dashboard import formatting as fmt

STEPS = {"page_view": "Page view", "add_to_cart": "Add to cart", "checkout": "Checkout", "purchase": "Purchase"}


def rate(part: float, whole: float) -> float | None:
    return part / whole if whole else None


source, selection = filters.current()

st.title("Funnel")
st.subheader("Web funnel")
st.caption("Sessions started in the date range (sessions have no country: the country filter does not apply).")
totals = data.web_funnel(source, selection.start, selection.end).iloc[0]
if totals["sessions"] == 0:
    st.info(
        f"No web session from {fmt.day(selection.start)} to {fmt.day(selection.end)}: widen the date range.",
        icon=":material/search_off:",
    )
else:
    steps = pd.DataFrame({"step": list(STEPS.values()), "sessions": [int(totals[key]) for key in STEPS]})
    cards = st.columns(4)
    cards[0].metric("Sessions", fmt.count(totals["sessions"]), border=True)
    cards[1].metric(
        "Cart rate",
        fmt.percent(rate(totals["add_to_cart"], totals["page_view"])),
        border=True,
        help="Sessions with an add to cart / sessions with a page view.",
    )
    cards[2].metric(
        "Checkout to purchase",
        fmt.percent(rate(totals["purchase"], totals["checkout"])),
        border=True,
        help="Sessions with a purchase / sessions that started a checkout.",
    )
    cards[3].metric(
        "Conversion rate",
        fmt.percent(rate(totals["purchase"], totals["sessions"])),
        border=True,
        help="Sessions with a purchase / all sessions.",
    )
    st.plotly_chart(charts.web_funnel(steps))

st.subheader("CRM funnel: contact → signup → first order")
st.caption("All CRM contacts by acquisition source (the date and country filters do not apply).")
crm = data.crm_funnel(source)
if crm is None:
    st.info(f"The CRM mart ({data.CRM_MART}) is not built on this stack: run `shopstream run --stack {source.stack}`.")
elif crm.empty:
    st.info("No CRM contact yet.")
else:
    st.plotly_chart(charts.crm_funnel(crm))
    st.dataframe(
        crm,
        hide_index=True,
        column_config={
            "acquisition_source": "Source",
            "contacts": st.column_config.NumberColumn("Contacts", format="localized"),
            "signups": st.column_config.NumberColumn("Signups", format="localized"),
            "first_orders": st.column_config.NumberColumn("First orders", format="localized"),
            "signup_rate": st.column_config.NumberColumn("Signup rate", format="percent"),
            "signup_to_order_rate": st.column_config.NumberColumn("Signup → order", format="percent"),
            "contact_to_order_rate": st.column_config.NumberColumn("Contact → order", format="percent"),
        },
    )
