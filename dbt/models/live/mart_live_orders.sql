{{
    config(
        materialized='incremental',
        schema='MARTS',
        unique_key='order_id',
        incremental_strategy=live_incremental_strategy(),
        on_schema_change='fail',
    )
}}

-- One row per streamed order, its latest version. Incremental: only orders in batches loaded since the last run.
with changed as (
    select *
    from {{ source('raw_stream', 'orders') }}
    where {{ is_stream_file('_source_file') }}
    {{ loaded_since_last_run('_loaded_at') }}
    qualify row_number() over (partition by id order by updated_at desc nulls last, _loaded_at desc nulls last) = 1
),

cancellations as (
    select order_id, product_id, reason
    from {{ stream_cancellations() }}
    where order_id in (select changed.id from changed)
    qualify row_number() over (partition by order_id order by _loaded_at desc nulls last) = 1
)

select
    cast(changed.id as integer) as order_id,
    cast(changed.user_id as integer) as user_id,
    cast(changed.created_at as timestamp) as ordered_at,
    {{ dbt.date_trunc('hour', 'cast(changed.created_at as timestamp)') }} as order_hour,
    upper(changed.status) as order_status,
    cast(changed.total_amount as decimal(10, 2)) as total_amount,
    coalesce(cancellations.reason = 'out_of_stock', false) as is_cancelled_for_stock,
    cast(cancellations.product_id as integer) as short_product_id,
    cast(changed._loaded_at as timestamp) as loaded_at
from changed
left join cancellations on changed.id = cancellations.order_id
