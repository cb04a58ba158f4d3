{{
    config(
        materialized='incremental',
        schema='MARTS',
        unique_key='order_id',
        incremental_strategy=live_incremental_strategy(),
        on_schema_change='fail',
    )
}}

-- One row per streamed order, its latest version. Incremental: only orders in batches loaded since the last run,
-- and orders whose cancellation was loaded since (a cancellation that reached RAW after its order's refresh).
-- loaded_at is when the row's latest part arrived: the order or its cancellation, whichever came last.
with changed as (
    select *
    from {{ source('raw_stream', 'orders') }}
    where {{ is_stream_file('_source_file') }}
    {%- if is_incremental() %}
        and (
            _loaded_at > (
                select coalesce(max(previous.loaded_at), cast('1900-01-01' as timestamp)) from {{ this }} as previous
            )
            or id in (
                select late.order_id from {{ stream_cancellations() }} as late
                where late._loaded_at > (
                    select coalesce(max(previous.loaded_at), cast('1900-01-01' as timestamp)) from {{ this }} as previous
                )
            )
        )
    {%- endif %}
    qualify row_number() over (partition by id order by updated_at desc nulls last, _loaded_at desc nulls last) = 1
),

cancellations as (
    select order_id, product_id, reason, _loaded_at
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
    cast(case  -- not greatest(): Snowflake's returns NULL when an order has no cancellation
        when cancellations._loaded_at > changed._loaded_at then cancellations._loaded_at else changed._loaded_at
    end as timestamp) as loaded_at
from changed
left join cancellations on changed.id = cancellations.order_id
