"""The dashboard's only door to the warehouse: read-only queries on the stack's MARTS schema.

Every query opens a connection, reads and closes it, so the dashboard never holds the DuckDB file while dbt or the
loader writes it (DuckDB allows one writer and no reader while it writes). On Snowflake the queries run on the
stack's BI warehouse, with the user's credentials from the environment. Results are cached for a few minutes per
stack and filter selection: moving between pages or back to a previous selection costs no query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from pipeline.errors import ShopstreamError, brief, is_duckdb_lock
from pipeline.settings import DuckDBWarehouse, Environment, Settings, resolve_settings

CACHE_TTL = timedelta(minutes=5)
STATUS_TTL = timedelta(seconds=30)  # short: the notice must go away soon after `shopstream run` builds the marts

# Marts every page needs, and the optional CRM funnel (the Funnel page explains when it is missing).
REQUIRED_MARTS = (
    "mart_sales_overview",
    "mart_daily_orders",
    "mart_product_performance",
    "mart_customer_ltv",
    "mart_conversion_funnel",
)
CRM_MART = "mart_crm_conversion"
# Written by `shopstream predict` (not dbt): the Customers page explains when they are missing.
CHURN_PREDICTIONS_MART = "mart_churn_predictions"
CHURN_METRICS_MART = "mart_churn_model_metrics"


class WarehouseBusy(ShopstreamError):
    """The DuckDB file is locked by a writer (a load or a dbt build is running)."""


@dataclass(frozen=True)
class MartsSource:
    """Where the marts are: hashable, so cached results are keyed by stack and warehouse."""

    stack: str
    kind: str  # duckdb | snowflake
    location: str  # the DuckDB file, or account/database on Snowflake
    schema: str = "MARTS"
    outputs_file: str | None = None
    local: bool = False

    def settings(self) -> Settings:
        outputs = Path(self.outputs_file) if self.outputs_file else None
        return resolve_settings(self.stack, outputs, local=self.local)

    def table(self, mart: str) -> str:
        return f"{self.schema}.{mart}"


@dataclass(frozen=True)
class Filters:
    """The selection shared by every page: an inclusive date range and the countries to show."""

    start: date
    end: date
    countries: tuple[str, ...]


def source_from_env() -> MartsSource:
    """The stack the dashboard serves: $SHOPSTREAM_STACK (default dev), $SHOPSTREAM_OUTPUTS, $SHOPSTREAM_LOCAL."""
    env = Environment.read()
    settings = resolve_settings(env=env)
    return source_for(settings, str(env.outputs_file) if env.outputs_file else None)


def source_for(settings: Settings, outputs_file: str | None = None) -> MartsSource:
    warehouse = settings.warehouse
    if isinstance(warehouse, DuckDBWarehouse):
        return MartsSource(settings.stack, "duckdb", str(warehouse.path), local=settings.local)
    return MartsSource(
        settings.stack,
        "snowflake",
        f"{warehouse.account}/{warehouse.database}",
        schema=warehouse.schemas["marts"],
        outputs_file=outputs_file,
    )


# -- queries ---------------------------------------------------------------------------------------------------------
def read(source: MartsSource, sql: str, params: list | tuple = ()) -> pd.DataFrame:
    """Run one read-only query on a short-lived connection; columns lower-case, decimals as floats."""
    if source.kind == "duckdb":
        frame = _read_duckdb(source.location, sql, params)
    else:
        frame = _read_snowflake(source, sql, params)
    frame.columns = [str(column).lower() for column in frame.columns]
    for column in frame.columns:
        if frame[column].dtype == object and frame[column].map(lambda v: isinstance(v, Decimal)).any():
            frame[column] = frame[column].astype(float)
    return frame


def _read_duckdb(path: str, sql: str, params: list | tuple) -> pd.DataFrame:
    try:
        connection = duckdb.connect(path, read_only=True)
    except duckdb.Error as exc:
        if is_duckdb_lock(exc):
            raise WarehouseBusy("the warehouse is being updated (a load or dbt build is running)") from None
        # A damaged or foreign file: say which and how to rebuild it, never show DuckDB's internals.
        raise ShopstreamError(
            f"the warehouse file {path} cannot be read ({brief(str(exc), 120)}); move it away and rebuild it with "
            "`shopstream load` and `shopstream transform`"
        ) from None
    try:
        return connection.execute(sql, list(params)).df()
    finally:
        connection.close()


def _read_snowflake(source: MartsSource, sql: str, params: list | tuple) -> pd.DataFrame:
    from pipeline.warehouse.snowflake import connect  # the cloud extra: imported only for a Snowflake stack

    with connect(source.settings(), "bi", paramstyle="qmark") as connection:
        cursor = connection.cursor()
        cursor.execute(sql, list(params))
        columns = [description[0] for description in cursor.description]
        return pd.DataFrame(cursor.fetchall(), columns=columns)


def _in(values: tuple[str | int, ...]) -> str:
    """Placeholders for an IN list (the values are bound, never pasted into the SQL)."""
    return "(" + ", ".join("?" for _ in values) + ")"


@st.cache_data(ttl=STATUS_TTL, show_spinner=False)
def missing_marts(source: MartsSource) -> list[str]:
    """Required marts the warehouse does not have (all of them when the warehouse itself does not exist)."""
    present = available_marts(source)
    return [mart for mart in REQUIRED_MARTS if mart not in present]


def available_marts(source: MartsSource) -> set[str]:
    if source.kind == "duckdb" and not Path(source.location).exists():
        return set()
    frame = read(
        source,
        "select table_name from information_schema.tables where upper(table_schema) = upper(?)",
        [source.schema],
    )
    return {name.lower() for name in frame["table_name"]}


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def filter_options(source: MartsSource) -> tuple[date | None, date | None, list[str]]:
    """First and last sale day and the countries with sales: the bounds of the shared filters."""
    table = source.table("mart_daily_orders")
    bounds = read(source, f"select min(sale_date) as first_day, max(sale_date) as last_day from {table}")
    countries = read(source, f"select distinct country_code from {table} order by country_code")
    first, last = bounds.iloc[0]["first_day"], bounds.iloc[0]["last_day"]
    if pd.isna(first):
        return None, None, []
    return pd.Timestamp(first).date(), pd.Timestamp(last).date(), countries["country_code"].tolist()


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def sales_totals(source: MartsSource, start: date, end: date, countries: tuple[str, ...]) -> tuple[float, int]:
    """(revenue, completed orders) of the selection, from the mart where each order counts once."""
    frame = read(
        source,
        f"""select coalesce(sum(total_revenue), 0) as revenue, coalesce(sum(total_orders), 0) as orders
            from {source.table("mart_daily_orders")}
            where sale_date between ? and ? and country_code in {_in(countries)}""",
        [start, end, *countries],
    )
    return float(frame.iloc[0]["revenue"]), int(frame.iloc[0]["orders"])


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def daily_sales(source: MartsSource, start: date, end: date, countries: tuple[str, ...]) -> pd.DataFrame:
    """Revenue and orders per day of the selection."""
    return read(
        source,
        f"""select sale_date, sum(total_revenue) as revenue, sum(total_orders) as orders
            from {source.table("mart_daily_orders")}
            where sale_date between ? and ? and country_code in {_in(countries)}
            group by sale_date order by sale_date""",
        [start, end, *countries],
    )


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def sales_by_country(source: MartsSource, start: date, end: date, countries: tuple[str, ...]) -> pd.DataFrame:
    return read(
        source,
        f"""select country_code, sum(total_revenue) as revenue, sum(total_orders) as orders
            from {source.table("mart_daily_orders")}
            where sale_date between ? and ? and country_code in {_in(countries)}
            group by country_code order by revenue desc""",
        [start, end, *countries],
    )


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def sales_by_category(source: MartsSource, start: date, end: date, countries: tuple[str, ...]) -> pd.DataFrame:
    """Revenue per product category (additive: a line belongs to one category)."""
    return read(
        source,
        f"""select product_category, sum(total_revenue) as revenue
            from {source.table("mart_sales_overview")}
            where sale_date between ? and ? and country_code in {_in(countries)}
            group by product_category order by revenue desc""",
        [start, end, *countries],
    )


@dataclass(frozen=True)
class Growth:
    """Month-over-month: revenue from the 1st of the end date's month to the end date, against the same days
    of the month before (so a month in progress is compared like for like)."""

    current: tuple[date, date]
    previous: tuple[date, date]
    current_revenue: float
    previous_revenue: float

    @property
    def rate(self) -> float | None:
        if not self.previous_revenue:
            return None
        return (self.current_revenue - self.previous_revenue) / self.previous_revenue


def month_to_date_periods(end: date) -> tuple[tuple[date, date], tuple[date, date]]:
    """(this month up to `end`, the same days of the previous month, cut at that month's last day)."""
    month_start = end.replace(day=1)
    previous_end_of_month = month_start - timedelta(days=1)
    previous_start = previous_end_of_month.replace(day=1)
    previous_end = min(previous_start + timedelta(days=end.day - 1), previous_end_of_month)
    return (month_start, end), (previous_start, previous_end)


def month_over_month(source: MartsSource, end: date, countries: tuple[str, ...]) -> Growth:
    current, previous = month_to_date_periods(end)
    current_revenue, _ = sales_totals(source, *current, countries)
    previous_revenue, _ = sales_totals(source, *previous, countries)
    return Growth(current, previous, current_revenue, previous_revenue)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def products(source: MartsSource) -> pd.DataFrame:
    """Every product with sales, ranked by revenue (the mart covers all completed sales)."""
    return read(
        source,
        f"""select revenue_rank, product_name, product_category, total_revenue, total_orders,
                   total_quantity_sold, revenue_share, cumulative_revenue_share, abc_class, performance_tier
            from {source.table("mart_product_performance")} order by revenue_rank""",
    )


def _customers_where(countries: tuple[str, ...]) -> str:
    # A customer is in the selection when their ordering span (first to last completed order) meets the range.
    return f"country_code in {_in(countries)} and first_order_date <= ? and last_order_date >= ?"


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def customer_segments(source: MartsSource, start: date, end: date, countries: tuple[str, ...]) -> pd.DataFrame:
    """Customers and lifetime value per RFM segment."""
    return read(
        source,
        f"""select rfm_segment, count(*) as customers, sum(lifetime_value) as lifetime_value,
                   avg(lifetime_value) as avg_lifetime_value
            from {source.table("mart_customer_ltv")}
            where {_customers_where(countries)}
            group by rfm_segment order by lifetime_value desc""",
        [*countries, end, start],
    )


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def top_customers(
    source: MartsSource, start: date, end: date, countries: tuple[str, ...], limit: int = 100
) -> pd.DataFrame:
    return read(
        source,
        f"""select customer_key, customer_name, email, country_code, lifetime_value, completed_orders, rfm_segment,
                   churn_risk
            from {source.table("mart_customer_ltv")}
            where {_customers_where(countries)}
            order by lifetime_value desc, customer_key
            limit {int(limit)}""",
        [*countries, end, start],
    )


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def web_funnel(source: MartsSource, start: date, end: date) -> pd.DataFrame:
    """Sessions at each funnel step in the date range (sessions carry no country)."""
    return read(
        source,
        f"""select coalesce(sum(sessions), 0) as sessions,
                   coalesce(sum(page_view_sessions), 0) as page_view,
                   coalesce(sum(add_to_cart_sessions), 0) as add_to_cart,
                   coalesce(sum(checkout_sessions), 0) as checkout,
                   coalesce(sum(purchase_sessions), 0) as purchase
            from {source.table("mart_conversion_funnel")}
            where session_date between ? and ?""",
        [start, end],
    )


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def crm_funnel(source: MartsSource) -> pd.DataFrame | None:
    """Contacts → signups → first orders per acquisition source, or None when the CRM mart is not built."""
    if CRM_MART not in available_marts(source):
        return None
    return read(
        source,
        f"""select acquisition_source, contacts, signups, first_orders,
                   signup_rate, signup_to_order_rate, contact_to_order_rate
            from {source.table(CRM_MART)} order by contacts desc""",
    )


@st.cache_data(ttl=STATUS_TTL, show_spinner=False)
def churn_predictions_built(source: MartsSource) -> bool:
    """True when `shopstream predict` has written both churn marts for this stack."""
    return {CHURN_PREDICTIONS_MART, CHURN_METRICS_MART} <= available_marts(source)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def churn_predictions(source: MartsSource, customer_keys: tuple[int, ...]) -> pd.DataFrame:
    """The model's churn probability, band and top drivers of these customers."""
    if not customer_keys:
        return pd.DataFrame(columns=["customer_key", "churn_probability", "risk_band", "top_features"])
    return read(
        source,
        f"""select customer_key, churn_probability, risk_band, top_features
            from {source.table(CHURN_PREDICTIONS_MART)}
            where customer_key in {_in(customer_keys)}""",
        list(customer_keys),
    )


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def churn_model_metrics(source: MartsSource) -> pd.DataFrame:
    """One row per metric of the model that scored the customers, with the rule's value next to it."""
    return read(
        source,
        f"""select model_version, as_of_date, test_cutoff, metric, model_value, baseline_value
            from {source.table(CHURN_METRICS_MART)} order by metric""",
    )


# -- operations: the run history and the freshness of RAW (local DuckDB stacks) ---------------------------------------
def _has_table(source: MartsSource, schema: str, table: str) -> bool:
    if source.kind != "duckdb" or not Path(source.location).exists():
        return False
    frame = read(
        source,
        "select 1 from information_schema.tables where upper(table_schema) = ? and upper(table_name) = ?",
        [schema.upper(), table.upper()],
    )
    return not frame.empty


@st.cache_data(ttl=STATUS_TTL, show_spinner=False)
def run_history(source: MartsSource, limit: int = 200) -> pd.DataFrame | None:
    """The latest runs, newest first (None when the stack keeps no run history)."""
    if not _has_table(source, "RAW", "_RUN_HISTORY"):
        return None
    return read(
        source,
        "select started_at, origin, command, outcome, exit_code, seconds, quarantined_files, tests_passed,"
        " tests_failed, error from RAW._RUN_HISTORY order by started_at desc limit ?",
        [limit],
    )


@st.cache_data(ttl=STATUS_TTL, show_spinner=False)
def freshness(source: MartsSource) -> pd.DataFrame | None:
    """Per RAW table: when a file last loaded, and which extraction date it came from."""
    if not _has_table(source, "RAW", "_LOAD_HISTORY"):
        return None
    return read(
        source,
        "select table_name, max(loaded_at) as last_loaded_at,"
        " max(regexp_extract(file, 'dt=([0-9-]+)', 1)) as latest_extract_date, count(*) as files"
        " from RAW._LOAD_HISTORY group by table_name order by table_name",
    )
