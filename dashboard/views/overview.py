"""Overview: revenue, orders, average basket and month-over-month growth, with the trend and the breakdowns."""

import streamlit as st

from dashboard import charts, data, filters
from dashboard import formatting as fmt

source, selection = filters.current()
period = (source, selection.start, selection.end, selection.countries)

st.title("Overview")
revenue, orders = data.sales_totals(*period)
filters.stop_if_no_sales(selection, orders)
growth = data.month_over_month(source, selection.end, selection.countries)

revenue_card, orders_card, basket_card, growth_card = st.columns(4)
revenue_card.metric(
    "Revenue", fmt.money(revenue), border=True, help="Completed orders (paid, shipped, delivered), sum of their lines."
)
orders_card.metric("Orders", fmt.count(orders), border=True, help="Completed orders.")
basket_card.metric("Average basket", fmt.money(revenue / orders, decimals=2), border=True, help="Revenue per order.")
change = growth.current_revenue - growth.previous_revenue
growth_card.metric(
    "Month-over-month growth",
    fmt.percent(growth.rate, signed=True),
    delta=None if growth.rate is None else ("+" if change >= 0 else "") + fmt.money(change),
    border=True,
    help=f"Revenue {fmt.period(*growth.current)} ({fmt.money(growth.current_revenue)}) against the same days of "
    f"the month before, {fmt.period(*growth.previous)} ({fmt.money(growth.previous_revenue)}).",
)

st.plotly_chart(charts.revenue_trend(data.daily_sales(*period)))
by_country, by_category = st.columns(2)
by_country.plotly_chart(charts.revenue_by_country(data.sales_by_country(*period)))
by_category.plotly_chart(charts.revenue_by_category(data.sales_by_category(*period)))
