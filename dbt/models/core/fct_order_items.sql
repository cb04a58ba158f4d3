-- One row per order line placed up to as_of_date, with the order's attributes and the keys of the customer,
-- product and date dimensions.
with orders as (
    select o.*
    from {{ ref('stg_orders') }} as o
    cross join {{ ref('int_as_of_date') }} as as_of
    where o.order_date <= as_of.as_of_date
),

order_items as (
    select * from {{ ref('stg_order_items') }}
)

select
    oi.order_item_id as order_item_key,
    o.order_id as order_key,
    o.user_id as customer_key,
    oi.product_id as product_key,
    o.order_date as date_key,
    o.ordered_at,
    o.order_status,
    o.country_code,
    o.payment_method,
    oi.quantity,
    oi.unit_price,
    oi.line_total as line_revenue,
    o.total_amount as order_total,
    cast(oi.line_total * {{ var('margin_rate') }} as decimal(12, 2)) as estimated_margin,
    o.order_status in {{ completed_statuses() }} as is_completed,
    o.order_status = 'CANCELLED' as is_cancelled
from order_items as oi
inner join orders as o on oi.order_id = o.order_id
