"""The filters every page shares (date range, countries), drawn once in the sidebar by the app's entry point.

The entry point stores the stack and the selection in the session; pages read them with `current()`, which shows
a clear message instead of a page when the selection cannot be used (no country, half a date range).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import streamlit as st

from dashboard import formatting as fmt
from dashboard.data import Filters, MartsSource

DATES_KEY = "filter_dates"
COUNTRIES_KEY = "filter_countries"
_CONTEXT_KEY = "shopstream_context"


@dataclass(frozen=True)
class Context:
    source: MartsSource
    filters: Filters | None
    problem: str | None = None  # why `filters` is None, in words the user can act on


def sidebar(source: MartsSource, first: date, last: date, countries: list[str]) -> Context:
    """Draw the shared filters and remember the selection for the page about to run."""
    with st.sidebar:
        st.subheader("Filters")
        picked = st.date_input(
            "Date range",
            value=(first, last),
            min_value=first,
            max_value=last,
            key=DATES_KEY,
            format="YYYY-MM-DD",
            help="Days the orders were placed (sessions started, on the Funnel page).",
        )
        chosen = st.multiselect(
            "Countries",
            countries,
            default=countries,
            key=COUNTRIES_KEY,
            placeholder="Choose one or more countries",
            help="Delivery country of the orders; a customer's country on the Customers page.",
        )
        st.caption(f"Stack **{source.stack}** · {source.kind} · sales from {fmt.day(first)} to {fmt.day(last)}")
    context = Context(source, *_selection(picked, chosen))
    st.session_state[_CONTEXT_KEY] = context
    return context


def _selection(picked: object, chosen: list[str]) -> tuple[Filters | None, str | None]:
    days = tuple(picked) if isinstance(picked, list | tuple) else (picked,)
    if len(days) != 2 or None in days:
        return None, "Pick the end of the date range in the sidebar (click a first day, then a last day)."
    if not chosen:
        return None, "No country selected: choose at least one country in the sidebar."
    start, end = sorted(days)
    return Filters(start, end, tuple(sorted(chosen))), None


def current() -> tuple[MartsSource, Filters]:
    """The stack and the selection; stops the page with a message when the selection is empty or incomplete."""
    context: Context = st.session_state[_CONTEXT_KEY]
    if context.filters is None:
        st.info(context.problem, icon=":material/filter_alt_off:")
        st.stop()
    return context.source, context.filters


def current_source() -> MartsSource:
    """The stack, for pages whose marts the filters do not apply to."""
    return st.session_state[_CONTEXT_KEY].source


def stop_if_no_sales(filters: Filters, orders: int) -> None:
    if orders == 0:
        st.info(
            f"No completed sales from {fmt.day(filters.start)} to {fmt.day(filters.end)} in "
            f"{', '.join(filters.countries)}: widen the date range or choose other countries.",
            icon=":material/search_off:",
        )
        st.stop()
