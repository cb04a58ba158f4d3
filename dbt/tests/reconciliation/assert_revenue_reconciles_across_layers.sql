-- Completed revenue up to as_of_date must be the same number in RAW (each table's latest snapshot, found here
-- from the file paths, independently of staging), in the facts and in every mart that reports it.
-- Returns one row per layer that disagrees with the line fact.
with as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

raw_orders as (
    select *, {{ snapshot_date('_source_file') }} as snapshot_date from {{ source('raw', 'orders') }}
),

raw_items as (
    select *, {{ snapshot_date('_source_file') }} as snapshot_date from {{ source('raw', 'order_items') }}
),

latest_orders as (
    select * from raw_orders where snapshot_date = (select max(snapshot_date) from raw_orders)
),

latest_items as (
    select * from raw_items where snapshot_date = (select max(snapshot_date) from raw_items)
),

raw_revenue as (
    select {{ money('coalesce(sum(i.line_total), 0)') }} as revenue
    from latest_items as i
    inner join latest_orders as o on i.order_id = o.id
    cross join as_of
    where upper(trim(o.status)) in {{ completed_statuses() }}
      and cast(o.created_at as date) <= as_of.as_of_date
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
