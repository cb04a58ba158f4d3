-- Completed orders by day, country and customer segment: the additive order count the BI KPIs need.
-- mart_sales_overview splits orders by product category, so its order counts cannot be summed; every order has
-- one day, one country and one customer, so here they can (orders, revenue and average basket on any filter).
with lines as (
    select * from {{ ref('fct_order_items') }}
    where is_completed
),

customers as (
    select customer_key, customer_segment from {{ ref('dim_customers') }}
)

select
    l.date_key as sale_date,
    l.country_code,
    coalesce(c.customer_segment, 'Unknown') as customer_segment,
    count(distinct l.order_key) as total_orders,
    cast(sum(l.quantity) as bigint) as total_quantity,
    {{ money('sum(l.line_revenue)') }} as total_revenue
from lines as l
left join customers as c on l.customer_key = c.customer_key
group by 1, 2, 3
