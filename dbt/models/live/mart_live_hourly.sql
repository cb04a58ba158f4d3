{{
    config(
        materialized='incremental',
        schema='MARTS',
        unique_key='order_hour',
        incremental_strategy=live_incremental_strategy(),
        on_schema_change='fail',
    )
}}

-- Orders, revenue and stock cancellations per simulated hour. Incremental: only the hours a new batch touched
-- are recomputed, from the live orders of those hours (never the whole history).
with touched_hours as (
    select distinct order_hour
    from {{ ref('mart_live_orders') }}
    where 1 = 1
    {{ loaded_since_last_run('loaded_at', 'last_loaded_at') }}
)

select
    orders.order_hour,
    count(*) as orders,
    sum(case when orders.order_status <> 'CANCELLED' then 1 else 0 end) as accepted_orders,
    cast(sum(case when orders.order_status <> 'CANCELLED' then orders.total_amount else 0 end) as decimal(12, 2))
        as revenue,
    sum(case when orders.is_cancelled_for_stock then 1 else 0 end) as cancelled_for_stock,
    max(orders.loaded_at) as last_loaded_at
from {{ ref('mart_live_orders') }} as orders
where orders.order_hour in (select touched_hours.order_hour from touched_hours)
group by orders.order_hour
