"""Customers: RFM segments, lifetime value per segment and the top customers with their churn risk, from the
rule (days since the last order) and, once `shopstream predict` has run, from the churn model."""

from typing import Literal

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


def with_predictions(top: pd.DataFrame) -> pd.DataFrame:
    """The top customers with the model's churn probability and drivers next to the rule (when predicted)."""
    if not predicted:
        return top.drop(columns="customer_key")
    scores = data.churn_predictions(source, tuple(int(key) for key in top["customer_key"]))
    merged = top.merge(scores[["customer_key", "churn_probability", "top_features"]], on="customer_key", how="left")
    return merged.drop(columns="customer_key")


def show_model_metrics() -> None:
    metrics = data.churn_model_metrics(source).set_index("metric")
    first = metrics.iloc[0]
    st.subheader("Churn model")
    st.caption(
        f"Model {first['model_version']}, customers scored as of {fmt.day(pd.Timestamp(first['as_of_date']).date())}. "
        f"Evaluated on the held-out cut-off {fmt.day(pd.Timestamp(first['test_cutoff']).date())} against the rule "
        "(churn risk by days since the last order); see docs/CHURN_MODEL.md."
    )
    # delta_color "inverse": a lower Brier score is the better one.
    model_metrics: list[tuple[str, str, Literal["normal", "inverse"]]] = [
        ("roc_auc", "Model ROC AUC", "normal"),
        ("pr_auc", "Model PR AUC", "normal"),
        ("brier_score", "Model Brier score", "inverse"),
    ]
    for card, (metric, label, better) in zip(st.columns(3), model_metrics, strict=True):
        model, rule = metrics.loc[metric, "model_value"], metrics.loc[metric, "baseline_value"]
        card.metric(label, f"{model:.3f}", delta=f"{model - rule:+.3f} vs rule", delta_color=better, border=True)


predicted = data.churn_predictions_built(source)
if predicted:
    show_model_metrics()
else:
    st.info(
        f"No churn predictions for stack `{source.stack}` yet: run `shopstream predict --stack {source.stack}` "
        "(or `shopstream run --predict`) to show the model's churn probability next to the rule.",
        icon=":material/model_training:",
    )

st.subheader(f"Top {min(TOP, len(top))} customers by lifetime value")
table = with_predictions(top).rename(
    columns={
        "customer_name": "Name",
        "email": "Email",
        "country_code": "Country",
        "lifetime_value": "Lifetime value",
        "completed_orders": "Orders",
        "rfm_segment": "Segment",
        "churn_risk": "Churn risk",
        "churn_probability": "Churn probability",
        "top_features": "Churn drivers",
    }
)
styled: pd.io.formats.style.Styler = table.style.format(
    {"Lifetime value": lambda v: fmt.money(v, decimals=2), "Orders": fmt.count, "Churn probability": fmt.percent}
).map(churn_style, subset=["Churn risk"])
st.dataframe(styled, hide_index=True)
