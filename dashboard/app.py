"""ShopStream BI: the entry point Streamlit runs (`shopstream dashboard --stack NAME`).

It draws the navigation and the shared filters, checks that the stack's marts exist, then runs the chosen page.
The stack comes from $SHOPSTREAM_STACK (and $SHOPSTREAM_OUTPUTS for a cloud stack), set by the CLI.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

# `streamlit run dashboard/app.py` puts only this folder on sys.path: `dashboard` and `pipeline` are imported as the
# installed packages of the project (`make install-all`).
from dashboard import data, filters
from pipeline.errors import ShopstreamError

FAVICON = Path(__file__).resolve().with_name("favicon.png")
PAGES = [
    st.Page("views/overview.py", title="Overview", default=True),
    st.Page("views/products.py", title="Products"),
    st.Page("views/customers.py", title="Customers"),
    st.Page("views/funnel.py", title="Funnel"),
    st.Page("views/operations.py", title="Operations"),
    st.Page("views/quality.py", title="Data quality"),
    st.Page("views/live.py", title="Live"),
]


def show_no_marts(source: data.MartsSource, missing: list[str]) -> None:
    st.title("ShopStream BI")
    everything = len(missing) == len(data.REQUIRED_MARTS)
    st.warning(
        f"**The marts of stack `{source.stack}` do not exist yet**"
        + ("" if everything else f" (missing: {', '.join(missing)})")
        + f".\n\nBuild them with `shopstream run --stack {source.stack}` (the whole road: source → lake → "
        "warehouse → dbt), then check again.",
        icon=":material/construction:",
    )
    if st.button("Check again"):
        data.missing_marts.clear()
        st.rerun()


def main() -> None:
    # A local favicon, and pages without icons: a material or emoji page icon becomes the favicon, which the
    # browser fetches from a CDN that an offline machine cannot reach.
    st.set_page_config(page_title="ShopStream BI", page_icon=str(FAVICON), layout="wide")
    page = st.navigation(PAGES)
    try:
        source = data.source_from_env()
        missing = data.missing_marts(source)
        if missing:
            show_no_marts(source, missing)
            return
        first, last, countries = data.filter_options(source)
        if first is None or last is None:
            st.info(f"Stack `{source.stack}` has no completed sales yet: nothing to show.")
            return
        filters.sidebar(source, first, last, countries)
        page.run()
    except data.WarehouseBusy as exc:
        st.warning(f"{exc}: reload the page in a moment.")
    except ShopstreamError as exc:
        st.error(str(exc))


main()
