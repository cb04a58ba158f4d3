{{
    config(
        materialized='incremental',
        schema='MARTS',
        unique_key='product_id',
        incremental_strategy=live_incremental_strategy(),
        on_schema_change='fail',
    )
}}

-- Stock level and stock-outs per product the stream touched. Incremental: products with a new stock version or a
-- new cancellation since the last run; their stock-out count is recounted over their own cancellations only.
with stock_versions as (
    select id as product_id, stock_quantity, updated_at, _loaded_at
    from {{ source('raw_stream', 'products') }}
    where {{ is_stream_file('_source_file') }}
),

new_cancellations as (
    select product_id, _loaded_at
    from {{ stream_cancellations() }}
    where 1 = 1
    {{ loaded_since_last_run('_loaded_at') }}
),

touched as (
    select product_id from stock_versions
    where 1 = 1 {{ loaded_since_last_run('_loaded_at') }}
    union
    select product_id from new_cancellations
),

latest_stock as (
    select product_id, stock_quantity, updated_at, _loaded_at
    from stock_versions
    where product_id in (select touched.product_id from touched)
    qualify
        row_number() over (
            partition by product_id order by updated_at desc nulls last, _loaded_at desc nulls last
        ) = 1
),

stock_outs as (
    select product_id, count(distinct order_id) as stock_outs, max(_loaded_at) as _loaded_at
    from {{ stream_cancellations() }}
    where product_id in (select touched.product_id from touched)
    group by product_id
)

select
    cast(touched.product_id as integer) as product_id,
    cast(latest_stock.stock_quantity as integer) as stock_quantity,
    cast(latest_stock.updated_at as timestamp) as stock_updated_at,
    coalesce(stock_outs.stock_outs, 0) as stock_outs,
    coalesce(latest_stock.stock_quantity = 0, false) as is_out_of_stock,
    -- Spelled out: Snowflake's GREATEST returns NULL when any argument is NULL.
    cast(case
        when stock_outs._loaded_at is null then latest_stock._loaded_at
        when latest_stock._loaded_at is null or stock_outs._loaded_at > latest_stock._loaded_at
            then stock_outs._loaded_at
        else latest_stock._loaded_at
    end as timestamp) as loaded_at
from touched
left join latest_stock on touched.product_id = latest_stock.product_id
left join stock_outs on touched.product_id = stock_outs.product_id
