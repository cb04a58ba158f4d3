with latest_snapshot as (
    {{ latest_snapshot('products') }}
)

select
    cast(id as integer) as product_id,
    cast(merchant_id as integer) as merchant_id,
    trim(name) as product_name,
    description as product_description,
    trim(category) as category,
    cast(price as decimal(10, 2)) as price,
    cast(stock_quantity as integer) as stock_quantity,
    cast(created_at as timestamp) as created_at,
    cast(updated_at as timestamp) as updated_at,
    cast(_loaded_at as timestamp) as loaded_at
from latest_snapshot
