-- Daily sales by country, product category and customer segment. Completed orders only (paid, shipped,
-- delivered): pending and cancelled orders are not revenue.
with lines as (
    select * from {{ ref('fct_order_items') }}
    where is_completed
),

products as (
    select product_key, product_category from {{ ref('dim_products') }}
),

customers as (
    select customer_key, customer_segment from {{ ref('dim_customers') }}
)

select
    l.date_key as sale_date,
    l.country_code,
    coalesce(p.product_category, 'Unknown') as product_category,
    coalesce(c.customer_segment, 'Unknown') as customer_segment,
    count(distinct l.order_key) as total_orders,
    count(distinct l.customer_key) as unique_customers,
    cast(sum(l.quantity) as bigint) as total_quantity,
    {{ money('sum(l.line_revenue)') }} as total_revenue,
    {{ money('sum(l.estimated_margin)') }} as total_margin,
    -- Revenue of the category's lines per order containing the category: not the orders' average basket.
    {{ money_per('sum(l.line_revenue)', 'count(distinct l.order_key)') }} as revenue_per_order
from lines as l
left join products as p on l.product_key = p.product_key
left join customers as c on l.customer_key = c.customer_key
group by 1, 2, 3, 4
