-- One row per order placed up to as_of_date: the header from the source plus totals of its lines.
with orders as (
    select o.*
    from {{ ref('stg_orders') }} as o
    cross join {{ ref('int_as_of_date') }} as as_of
    where o.order_date <= as_of.as_of_date
),

lines as (
    select
        order_key,
        count(*) as line_count,
        cast(sum(quantity) as bigint) as total_quantity,
        {{ money('sum(line_revenue)') }} as lines_revenue,
        {{ money('sum(estimated_margin)') }} as estimated_margin
    from {{ ref('fct_order_items') }}
    group by order_key
)

select
    o.order_id as order_key,
    o.user_id as customer_key,
    o.order_date as date_key,
    o.ordered_at,
    o.order_status,
    o.country_code,
    o.payment_method,
    o.total_amount as order_total,
    coalesce(l.line_count, 0) as line_count,
    coalesce(l.total_quantity, 0) as total_quantity,
    coalesce(l.lines_revenue, 0) as lines_revenue,
    coalesce(l.estimated_margin, 0) as estimated_margin,
    o.order_status in {{ completed_statuses() }} as is_completed,
    o.order_status = 'CANCELLED' as is_cancelled
from orders as o
left join lines as l on o.order_id = l.order_key
