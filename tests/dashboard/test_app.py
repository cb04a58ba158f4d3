"""Every dashboard page driven by Streamlit's AppTest on a real built stack (PostgreSQL → lake → DuckDB → dbt).

The figures on the cards and charts are checked against independent SQL: on the CORE facts where the KPI can be
computed from them (revenue, orders, month-over-month), else on the marts the page reads.
"""

from __future__ import annotations

import calendar
import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from dashboard.privacy import mask_email
from tests.helpers.dashboard import APP, PAGES, chart, metrics, number, warehouse

pytestmark = pytest.mark.slow

COUNTRIES_KEY = "filter_countries"
DATES_KEY = "filter_dates"


def core_sales(settings, start: date, end: date, countries: list[str]) -> tuple[float, int]:
    """Revenue and completed orders straight from the order fact (not from any mart)."""
    marks = ", ".join("?" for _ in countries)
    revenue, orders = warehouse(
        settings,
        f"""SELECT coalesce(sum(lines_revenue), 0), count(*) FROM CORE.fct_orders
            WHERE is_completed AND line_count > 0 AND date_key BETWEEN ? AND ? AND country_code IN ({marks})""",
        [start, end, *countries],
    )[0]
    return float(revenue), orders


def core_growth(settings, end: date, countries: list[str]) -> float:
    """Month to date up to `end` against the same days of the previous month (cut at that month's end)."""
    year, month = (end.year, end.month - 1) if end.month > 1 else (end.year - 1, 12)
    previous_end = date(year, month, min(end.day, calendar.monthrange(year, month)[1]))
    current, _ = core_sales(settings, date(end.year, end.month, 1), end, countries)
    previous, _ = core_sales(settings, date(year, month, 1), previous_end, countries)
    return (current - previous) / previous


def sales_bounds(settings) -> tuple[date, date, list[str]]:
    # The default date range: the first to the last day with completed sales.
    first, last = warehouse(settings, "SELECT min(sale_date), max(sale_date) FROM MARTS.mart_daily_orders")[0]
    countries = [c for (c,) in warehouse(settings, "SELECT DISTINCT country_code FROM MARTS.mart_sales_overview")]
    return first, last, sorted(countries)


def assert_overview_matches_core(at, settings, start: date, end: date, countries: list[str]) -> dict[str, str]:
    cards = metrics(at)
    revenue, orders = core_sales(settings, start, end, countries)
    assert orders > 0
    assert number(cards["Revenue"]) == pytest.approx(revenue, abs=0.5)  # shown in whole euros
    assert number(cards["Orders"]) == orders
    assert number(cards["Average basket"]) == pytest.approx(revenue / orders, abs=0.005)
    assert number(cards["Month-over-month growth"]) == pytest.approx(core_growth(settings, end, countries), abs=5e-4)
    return cards


def test_overview_kpis_equal_the_order_fact(app, marts_stack):
    first, last, countries = sales_bounds(marts_stack)
    at = app()
    assert [m.label for m in at.metric] == ["Revenue", "Orders", "Average basket", "Month-over-month growth"]
    assert at.metric[0].value.startswith("€") and at.metric[3].value.endswith(" %")
    assert_overview_matches_core(at, marts_stack, first, last, countries)

    # The breakdowns add up to the revenue card and match the sales mart, country by country and category by category.
    by_country = dict(
        warehouse(marts_stack, "SELECT country_code, sum(total_revenue) FROM MARTS.mart_sales_overview GROUP BY 1")
    )
    (bars,) = chart(at, "Revenue by country")
    assert dict(zip(bars["y"], bars["x"], strict=True)) == pytest.approx({k: float(v) for k, v in by_country.items()})
    by_category = dict(
        warehouse(marts_stack, "SELECT product_category, sum(total_revenue) FROM MARTS.mart_sales_overview GROUP BY 1")
    )
    (pie,) = chart(at, "Revenue by category")
    assert dict(zip(pie["labels"], pie["values"], strict=True)) == pytest.approx(
        {k: float(v) for k, v in by_category.items()}
    )
    trend = next(t for t in at.get("plotly_chart") if "Revenue per" in t.proto.spec)
    assert trend is not None


def test_overview_follows_the_date_range_and_countries(app, marts_stack):
    first, last, _ = sales_bounds(marts_stack)
    unfiltered = metrics(app())
    # A whole month inside the data (the one before the last), and the two biggest countries.
    last_month_start = last.replace(day=1)
    end = last_month_start - timedelta(days=1)
    start = max(end.replace(day=1), first)
    top_two = [
        c for (c,) in warehouse(
            marts_stack,
            "SELECT country_code FROM MARTS.mart_daily_orders GROUP BY 1 ORDER BY sum(total_revenue) DESC LIMIT 2",
        )
    ]  # fmt: skip
    at = app()
    at.date_input(key=DATES_KEY).set_value((start, end)).run()
    at.multiselect(key=COUNTRIES_KEY).set_value(top_two).run()
    assert not at.exception
    filtered = assert_overview_matches_core(at, marts_stack, start, end, top_two)
    assert number(filtered["Revenue"]) < number(unfiltered["Revenue"])
    assert number(filtered["Orders"]) < number(unfiltered["Orders"])
    (bars,) = chart(at, "Revenue by country")
    assert sorted(bars["y"]) == sorted(top_two)

    # The selection is shared: the Customers page opens on the same countries.
    at.switch_page("views/customers.py").run()
    assert at.multiselect(key=COUNTRIES_KEY).value == top_two
    shown = number(metrics(at)["Customers"])
    expected = warehouse(
        marts_stack,
        """SELECT count(*) FROM MARTS.mart_customer_ltv WHERE country_code IN (?, ?)
           AND first_order_date <= ? AND last_order_date >= ?""",
        [*top_two, end, start],
    )[0][0]
    assert shown == expected


def test_products_page_ranks_products_by_abc_class(app, marts_stack):
    at = app("views/products.py")
    counts = dict(warehouse(marts_stack, "SELECT abc_class, count(*) FROM MARTS.mart_product_performance GROUP BY 1"))
    cards = metrics(at)
    assert {label: number(value) for label, value in cards.items()} == {
        f"Class {abc} products": n for abc, n in counts.items()
    }
    table = at.dataframe[0].value
    ranked = warehouse(
        marts_stack, "SELECT product_name, total_revenue FROM MARTS.mart_product_performance ORDER BY revenue_rank"
    )
    assert table["product_name"].tolist() == [name for name, _ in ranked]
    assert table["total_revenue"].tolist() == pytest.approx([float(r) for _, r in ranked])
    assert set(at.dataframe[0].proto.column_order) == {
        "revenue_rank", "product_name", "product_category", "total_revenue", "total_orders", "abc_class",
        "performance_tier",
    }  # fmt: skip
    pareto = chart(at, "Pareto: revenue by product rank")
    cumulative = next(trace for trace in pareto if trace["name"] == "Cumulative share")
    assert cumulative["y"][-1] == pytest.approx(1.0, abs=1e-5)
    assert sum(len(trace["x"]) for trace in pareto if trace["name"].startswith("Class")) == len(ranked)


def test_customers_page_segments_and_top_customers(app, marts_stack):
    at = app("views/customers.py")
    segments = dict(warehouse(marts_stack, "SELECT rfm_segment, count(*) FROM MARTS.mart_customer_ltv GROUP BY 1"))
    shown = {trace["x"][0]: trace["y"][0] for trace in chart(at, "Customers per RFM segment")}
    assert shown == segments
    ltv = dict(
        warehouse(marts_stack, "SELECT rfm_segment, sum(lifetime_value) FROM MARTS.mart_customer_ltv GROUP BY 1")
    )
    shown_ltv = {trace["x"][0]: trace["y"][0] for trace in chart(at, "Lifetime value per RFM segment")}
    assert shown_ltv == pytest.approx({k: float(v) for k, v in ltv.items()})
    assert number(metrics(at)["Customers"]) == sum(segments.values())

    top = warehouse(
        marts_stack,
        "SELECT email, churn_risk FROM MARTS.mart_customer_ltv ORDER BY lifetime_value DESC, customer_key LIMIT 100",
    )
    table = at.dataframe[0].value
    assert list(table.columns) == ["Name", "Email", "Country", "Lifetime value", "Orders", "Segment", "Churn risk"]
    # Personal data is masked by default: the domain shows, the person does not.
    assert table["Email"].tolist() == [mask_email(email) for email, _ in top]
    assert not set(table["Email"]) & {email for email, _ in top}

    # Churn risk is coloured: every row of one risk level has the same style, and the three levels differ.
    styles = churn_styles(at.dataframe[0].proto.arrow_data.styler.styles, column=6)
    by_risk: dict[str, set[str]] = {}
    for row, (_, risk) in enumerate(top):
        by_risk.setdefault(risk, set()).add(styles.get(row, ""))
    assert all(len(found) == 1 and "" not in found for found in by_risk.values())
    assert len({next(iter(found)) for found in by_risk.values()}) == len(by_risk)
    assert "background-color" in next(iter(by_risk.get("High", {"background-color"})))

    # Without `shopstream predict`, the page says how to get the model's predictions.
    assert any(f"shopstream predict --stack {marts_stack.stack}" in info.value for info in at.info)
    assert "Model ROC AUC" not in metrics(at)


def test_customers_page_shows_the_churn_model_next_to_the_rule(marts_stack, shopstream_home: Path, serve_stack):
    from streamlit.testing.v1 import AppTest

    from pipeline.predict.churn import predict
    from pipeline.settings import local_settings

    # A copy of the built stack, so the predictions marts never reach the warehouse other tests compare.
    (shopstream_home / "predicted").mkdir()
    shutil.copy(marts_stack.warehouse.path, shopstream_home / "predicted" / "shopstream.duckdb")
    settings = local_settings("predicted")
    report = predict(settings)
    serve_stack("predicted")
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.switch_page("views/customers.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not any("shopstream predict" in info.value for info in at.info)

    model = dict(warehouse(settings, "SELECT metric, model_value FROM MARTS.mart_churn_model_metrics"))
    rule = dict(warehouse(settings, "SELECT metric, baseline_value FROM MARTS.mart_churn_model_metrics"))
    cards = {metric.label: metric for metric in at.metric}
    assert float(cards["Model ROC AUC"].value) == pytest.approx(model["roc_auc"], abs=5e-4)
    assert float(cards["Model Brier score"].value) == pytest.approx(report.evaluation.model.brier, abs=5e-4)
    assert cards["Model ROC AUC"].delta == f"{model['roc_auc'] - rule['roc_auc']:+.3f} vs rule"

    table = at.dataframe[0].value
    assert list(table.columns) == [
        "Name", "Email", "Country", "Lifetime value", "Orders", "Segment", "Churn risk", "Churn probability",
        "Churn drivers",
    ]  # fmt: skip
    expected = warehouse(
        settings,
        """SELECT l.email, l.churn_risk, p.churn_probability, p.top_features FROM MARTS.mart_customer_ltv l
           JOIN MARTS.mart_churn_predictions p USING (customer_key)
           ORDER BY l.lifetime_value DESC, l.customer_key LIMIT 100""",
    )
    assert table["Email"].tolist() == [mask_email(email) for email, *_ in expected]  # masked by default
    assert table["Churn probability"].tolist() == pytest.approx([p for _, _, p, _ in expected])
    assert table["Churn drivers"].tolist() == [drivers for *_, drivers in expected]


def churn_styles(css: str, column: int) -> dict[int, str]:
    """Row → CSS declarations of the cells in `column`, from the Styler's stylesheet."""
    styles: dict[int, str] = {}
    for selectors, declarations in re.findall(r"([^{}]+)\{([^}]*)\}", css):
        for row, col in re.findall(r"_row(\d+)_col(\d+)", selectors):
            if int(col) == column:
                styles[int(row)] = " ".join(declarations.split())
    return styles


def test_funnel_page_web_and_crm_steps(app, marts_stack):
    first, last, _ = sales_bounds(marts_stack)
    at = app("views/funnel.py")
    in_range = "FROM CORE.int_sessions WHERE session_date BETWEEN ? AND ?"
    sessions = warehouse(marts_stack, f"SELECT count(*) {in_range}", [first, last])[0][0]
    assert number(metrics(at)["Sessions"]) == sessions
    steps = warehouse(
        marts_stack,
        f"""SELECT count(*) FILTER (WHERE has_page_view), count(*) FILTER (WHERE has_add_to_cart),
                   count(*) FILTER (WHERE has_checkout), count(*) FILTER (WHERE has_purchase) {in_range}""",
        [first, last],
    )[0]
    (funnel,) = chart(at, "Web funnel (sessions)")
    assert funnel["y"] == ["Page view", "Add to cart", "Checkout", "Purchase"]
    assert funnel["x"] == list(steps)
    assert number(metrics(at)["Conversion rate"]) == pytest.approx(steps[3] / sessions, abs=5e-4)

    crm = warehouse(
        marts_stack, "SELECT acquisition_source, contacts, signups, first_orders FROM MARTS.mart_crm_conversion"
    )
    traces = {
        trace["name"]: dict(zip(trace["x"], trace["y"], strict=True)) for trace in chart(at, "CRM funnel by source")
    }
    assert traces["Contact"] == {source: contacts for source, contacts, _, _ in crm}
    assert traces["Signup"] == {source: signups for source, _, signups, _ in crm}
    assert traces["First order"] == {source: orders for source, _, _, orders in crm}


@pytest.mark.parametrize("page", [p for p in PAGES if "products" not in p])
def test_no_country_selected_shows_a_message_not_an_error(app, page):
    at = app(page)
    at.multiselect(key=COUNTRIES_KEY).set_value([]).run()
    assert not at.exception
    assert not at.metric and not at.get("plotly_chart")
    assert [info.value for info in at.info] == ["No country selected: choose at least one country in the sidebar."]


def test_half_a_date_range_asks_for_the_end_date(app, marts_stack):
    first, _, _ = sales_bounds(marts_stack)
    at = app()
    at.date_input(key=DATES_KEY).set_value((first,)).run()
    assert not at.exception and not at.metric
    assert "end of the date range" in at.info[0].value


def test_a_selection_without_sales_says_so(app, marts_stack):
    # The smallest market on a day it sold nothing: a valid selection with no sales.
    country, day = warehouse(
        marts_stack,
        """WITH days AS (SELECT DISTINCT sale_date FROM MARTS.mart_daily_orders),
                smallest AS (SELECT country_code FROM MARTS.mart_daily_orders GROUP BY 1 ORDER BY count(*) LIMIT 1)
           SELECT s.country_code, d.sale_date FROM days AS d, smallest AS s
           WHERE NOT EXISTS (SELECT 1 FROM MARTS.mart_daily_orders AS o
                             WHERE o.sale_date = d.sale_date AND o.country_code = s.country_code)
           ORDER BY d.sale_date LIMIT 1""",
    )[0]
    at = app()
    at.date_input(key=DATES_KEY).set_value((day, day)).run()
    at.multiselect(key=COUNTRIES_KEY).set_value([country]).run()
    assert not at.exception and not at.metric
    assert at.info[0].value.startswith("No completed sales") and country in at.info[0].value


def test_a_stack_without_marts_gets_a_notice(shopstream_home: Path, serve_stack):
    from streamlit.testing.v1 import AppTest

    # A local stack whose warehouse has only a first mart: the notice names the missing ones and the command to run.
    stack_dir = shopstream_home / "halfbuilt"
    stack_dir.mkdir()
    con = duckdb.connect(str(stack_dir / "shopstream.duckdb"))
    try:
        con.execute("CREATE SCHEMA MARTS; CREATE TABLE MARTS.mart_sales_overview (sale_date DATE)")
    finally:
        con.close()
    serve_stack("halfbuilt")
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception and not at.metric
    (notice,) = at.warning
    assert "do not exist yet" in notice.value and "shopstream run --stack halfbuilt" in notice.value
    assert "mart_daily_orders" in notice.value and "mart_sales_overview" not in notice.value

    # A stack that never loaded anything: no warehouse file at all.
    (shopstream_home / "empty").mkdir()
    serve_stack("empty")
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert "shopstream run --stack empty" in at.warning[0].value
    assert not (shopstream_home / "empty" / "shopstream.duckdb").exists()  # read-only: nothing created
