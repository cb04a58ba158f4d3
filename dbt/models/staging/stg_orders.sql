with latest_snapshot as (
    {{ latest_snapshot('orders') }}
)

select
    cast(id as integer) as order_id,
    cast(user_id as integer) as user_id,
    cast(created_at as timestamp) as ordered_at,
    cast(created_at as date) as order_date,
    cast(updated_at as timestamp) as updated_at,
    cast(total_amount as decimal(10, 2)) as total_amount,
    upper(trim(status)) as order_status,
    upper(trim(country)) as country_code,
    lower(trim(payment_method)) as payment_method,
    cast(_loaded_at as timestamp) as loaded_at
from latest_snapshot
