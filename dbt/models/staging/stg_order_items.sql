with latest_snapshot as (
    {{ latest_snapshot('order_items') }}
)

select
    cast(id as integer) as order_item_id,
    cast(order_id as integer) as order_id,
    cast(product_id as integer) as product_id,
    cast(quantity as integer) as quantity,
    cast(unit_price as decimal(10, 2)) as unit_price,
    cast(line_total as decimal(10, 2)) as line_total,
    cast(_loaded_at as timestamp) as loaded_at
from latest_snapshot
