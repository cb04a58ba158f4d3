-- Completed revenue must be the same number in RAW (latest version of each row), in the line fact and in every
-- mart that reports it. Returns one row per layer that disagrees with the fact.
with raw_orders as (
    {{ latest_version(source('raw', 'orders')) }}
),

raw_items as (
    {{ latest_version(source('raw', 'order_items')) }}
),

raw_revenue as (
    select {{ money('coalesce(sum(i.line_total), 0)') }} as revenue
    from raw_items as i
    inner join raw_orders as o on i.order_id = o.id
    where upper(trim(o.status)) in {{ completed_statuses() }}
),

fact_revenue as (
    select {{ money('coalesce(sum(line_revenue), 0)') }} as revenue from {{ ref('fct_order_items') }} where is_completed
),

layers as (
    select 'raw' as layer, revenue from raw_revenue
    union all
    select 'fct_orders', {{ money('coalesce(sum(lines_revenue), 0)') }} from {{ ref('fct_orders') }} where is_completed
    union all
    select 'mart_sales_overview', {{ money('coalesce(sum(total_revenue), 0)') }} from {{ ref('mart_sales_overview') }}
    union all
    select 'mart_daily_orders', {{ money('coalesce(sum(total_revenue), 0)') }} from {{ ref('mart_daily_orders') }}
    union all
    select 'mart_product_performance', {{ money('coalesce(sum(total_revenue), 0)') }} from {{ ref('mart_product_performance') }}
    union all
    select 'mart_customer_ltv', {{ money('coalesce(sum(lifetime_value), 0)') }} from {{ ref('mart_customer_ltv') }}
    union all
    select 'dim_products', {{ money('coalesce(sum(total_revenue), 0)') }} from {{ ref('dim_products') }}
)

select layers.layer, layers.revenue, fact_revenue.revenue as fact_revenue
from layers
cross join fact_revenue
where layers.revenue != fact_revenue.revenue
