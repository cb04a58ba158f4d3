-- One row per product created up to as_of_date, with its sales on completed orders up to that day.
-- Attributes (price, stock) are the latest snapshot's: the source keeps no history of them.
with products as (
    select p.*
    from {{ ref('stg_products') }} as p
    cross join {{ ref('int_as_of_date') }} as as_of
    where cast(p.created_at as date) <= as_of.as_of_date
),

sales as (
    select
        product_key,
        cast(sum(quantity) as bigint) as total_quantity_sold,
        {{ money('sum(line_revenue)') }} as total_revenue,
        count(distinct order_key) as total_orders,
        min(date_key) as first_sale_date,
        max(date_key) as last_sale_date
    from {{ ref('fct_order_items') }}
    where is_completed
    group by product_key
)

select
    p.product_id as product_key,
    p.product_name,
    p.product_description,
    p.category as product_category,
    p.merchant_id,
    p.price as current_price,
    p.stock_quantity as current_stock,
    coalesce(s.total_quantity_sold, 0) as total_quantity_sold,
    coalesce(s.total_revenue, 0) as total_revenue,
    coalesce(s.total_orders, 0) as total_orders,
    s.first_sale_date,
    s.last_sale_date,
    case
        when p.stock_quantity = 0 then 'Out of stock'
        when s.product_key is null then 'No sales'
        else 'Active'
    end as product_status,
    p.created_at as product_created_at,
    p.updated_at as product_updated_at
from products as p
left join sales as s on p.product_id = s.product_key
