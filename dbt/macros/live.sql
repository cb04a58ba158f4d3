{#- The near-real-time (live) models: incremental, refreshed after each stream batch. -#}

{# delete+insert where merge is not available (DuckDB); merge on Snowflake, where it is one atomic statement. #}
{% macro live_incremental_strategy() -%}
    {{ return('merge' if target.type == 'snowflake' else 'delete+insert') }}
{%- endmacro %}

{# Rows that came from the stream prefix: `raw/stream/…` here, `stream/…` relative to the Snowflake stage. #}
{% macro is_stream_file(column) -%}
    {{ column }} like '%stream/%'
{%- endmacro %}

{# Only the rows loaded after the newest row this model already holds (all of them on a first build). #}
{% macro loaded_since_last_run(column, this_column='loaded_at') -%}
    {%- if is_incremental() -%}
    and {{ column }} > (select coalesce(max({{ this_column }}), cast('1900-01-01' as timestamp)) from {{ this }})
    {%- endif -%}
{%- endmacro %}

{# RAW.order_cancellations exists once a stream batch was loaded; before that, an empty relation of its shape. #}
{% macro stream_cancellations() -%}
    {%- set relation = adapter.get_relation(database=target.database, schema='RAW', identifier='order_cancellations') -%}
    {%- if relation is not none -%}
    {{ source('raw_stream', 'order_cancellations') }}
    {%- else -%}
    (
        select
            cast(null as integer) as order_id,
            cast(null as integer) as product_id,
            cast(null as varchar) as reason,
            cast(null as integer) as requested,
            cast(null as integer) as available,
            cast(null as timestamp) as cancelled_at,
            cast(null as varchar) as _source_file,
            cast(null as timestamp) as _loaded_at
        where 1 = 0
    )
    {%- endif -%}
{%- endmacro %}
