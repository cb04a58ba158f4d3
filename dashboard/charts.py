"""Plotly figures in the dashboard's style: euros and thousands on the axes and in the hover labels."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.formatting import CURRENCY

ABC_COLOURS = {"A": "#2e7d32", "B": "#f9a825", "C": "#9e9e9e"}
SEGMENT_ORDER = ["Champions", "Loyal", "Potential", "At risk", "Hibernating", "Lost"]
SEGMENT_COLOURS = dict(zip(SEGMENT_ORDER, px.colors.qualitative.Safe, strict=False))
MONEY_AXIS = {"tickprefix": CURRENCY, "tickformat": ",.0f"}
MONEY_HOVER = CURRENCY + "%{y:,.2f}"


def _tidy(figure: go.Figure, height: int = 360) -> go.Figure:
    figure.update_layout(height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10}, separators=".,")
    return figure


def revenue_trend(daily: pd.DataFrame) -> go.Figure:
    """Revenue per day, week or month depending on how long the range is (a readable number of points)."""
    days = (daily["sale_date"].max() - daily["sale_date"].min()).days
    grain, label = ("D", "Day") if days <= 92 else ("W-MON", "Week") if days <= 550 else ("MS", "Month")
    series = daily.set_index(pd.to_datetime(daily["sale_date"]))["revenue"].resample(grain).sum().reset_index()
    figure = px.area(series, x="sale_date", y="revenue", title=f"Revenue per {label.lower()}")
    figure.update_traces(hovertemplate="%{x|%d %b %Y}<br>" + MONEY_HOVER + "<extra></extra>")
    figure.update_layout(xaxis_title=None, yaxis_title=None, yaxis=MONEY_AXIS)
    return _tidy(figure)


def revenue_by_country(by_country: pd.DataFrame) -> go.Figure:
    ordered = by_country.sort_values("revenue")
    figure = px.bar(ordered, x="revenue", y="country_code", orientation="h", title="Revenue by country")
    figure.update_traces(hovertemplate="%{y}<br>" + CURRENCY + "%{x:,.2f}<extra></extra>")
    figure.update_layout(xaxis_title=None, yaxis_title=None, xaxis=MONEY_AXIS)
    return _tidy(figure)


def revenue_by_category(by_category: pd.DataFrame) -> go.Figure:
    figure = px.pie(by_category, names="product_category", values="revenue", hole=0.45, title="Revenue by category")
    figure.update_traces(
        textinfo="percent+label", hovertemplate="%{label}<br>" + CURRENCY + "%{value:,.2f} (%{percent})<extra></extra>"
    )
    return _tidy(figure)


def pareto(products: pd.DataFrame) -> go.Figure:
    """Revenue per product in rank order (bars coloured by ABC class) and the cumulative share (line)."""
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    for abc_class, rows in products.groupby("abc_class", sort=True):
        figure.add_bar(
            x=rows["revenue_rank"],
            y=rows["total_revenue"],
            name=f"Class {abc_class}",
            marker_color=ABC_COLOURS.get(abc_class),
            customdata=rows[["product_name"]],
            hovertemplate="#%{x} %{customdata[0]}<br>" + MONEY_HOVER + "<extra></extra>",
        )
    figure.add_scatter(
        x=products["revenue_rank"],
        y=products["cumulative_revenue_share"],
        name="Cumulative share",
        mode="lines",
        line={"color": "#1565c0"},
        hovertemplate="Top %{x}: %{y:.1%} of revenue<extra></extra>",
        secondary_y=True,
    )
    for threshold, label in ((0.80, "A | B at 80 %"), (0.95, "B | C at 95 %")):
        figure.add_hline(y=threshold, line_dash="dot", line_color="#616161", secondary_y=True)
        figure.add_annotation(
            x=1, xref="paper", y=threshold, yref="y2", text=label, showarrow=False, xanchor="right", yanchor="top"
        )
    figure.update_layout(title="Pareto: revenue by product rank", bargap=0.05, legend={"orientation": "h", "y": -0.15})
    figure.update_xaxes(title="Product rank")
    figure.update_yaxes(secondary_y=False, title=None, **MONEY_AXIS)
    figure.update_yaxes(secondary_y=True, title=None, tickformat=".0%", range=[0, 1.02], dtick=0.2, showgrid=False)
    return _tidy(figure, height=420)


def _by_segment(segments: pd.DataFrame, value: str, title: str, money: bool) -> go.Figure:
    figure = px.bar(
        segments,
        x="rfm_segment",
        y=value,
        color="rfm_segment",
        color_discrete_map=SEGMENT_COLOURS,
        category_orders={"rfm_segment": SEGMENT_ORDER},
        title=title,
    )
    hover = MONEY_HOVER if money else "%{y:,}"
    figure.update_traces(hovertemplate="%{x}<br>" + hover + "<extra></extra>")
    figure.update_layout(showlegend=False, xaxis_title=None, yaxis_title=None)
    if money:
        figure.update_layout(yaxis=MONEY_AXIS)
    return _tidy(figure)


def customers_by_segment(segments: pd.DataFrame) -> go.Figure:
    return _by_segment(segments, "customers", "Customers per RFM segment", money=False)


def lifetime_value_by_segment(segments: pd.DataFrame) -> go.Figure:
    return _by_segment(segments, "lifetime_value", "Lifetime value per RFM segment", money=True)


def web_funnel(steps: pd.DataFrame) -> go.Figure:
    figure = go.Figure(
        go.Funnel(
            y=steps["step"],
            x=steps["sessions"],
            textinfo="value+percent initial+percent previous",
            hovertemplate="%{y}: %{x:,} sessions<extra></extra>",
        )
    )
    figure.update_layout(title="Web funnel (sessions)")
    return _tidy(figure)


def crm_funnel(crm: pd.DataFrame) -> go.Figure:
    long = crm.melt(
        id_vars="acquisition_source", value_vars=["contacts", "signups", "first_orders"], var_name="step"
    ).replace({"step": {"contacts": "Contact", "signups": "Signup", "first_orders": "First order"}})
    figure = px.bar(
        long,
        x="acquisition_source",
        y="value",
        color="step",
        barmode="group",
        color_discrete_sequence=["#90caf9", "#1e88e5", "#0d47a1"],
        title="CRM funnel by source",
    )
    figure.update_traces(hovertemplate="%{x}<br>%{y:,}<extra></extra>")
    figure.update_layout(xaxis_title=None, yaxis_title=None, legend_title=None)
    return _tidy(figure)
