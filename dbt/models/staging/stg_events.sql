-- One row per tracking event, with the JSON metadata unpacked into typed columns.
with latest_snapshot as (
    {{ latest_snapshot('events') }}
)

select
    cast(id as bigint) as event_id,
    cast(user_id as integer) as user_id,
    lower(trim(event_type)) as event_type,
    cast(event_ts as timestamp) as event_at,
    cast(event_ts as date) as event_date,
    {{ json_text('metadata', 'session_id') }} as session_id,
    lower({{ json_text('metadata', 'device') }}) as device,
    {{ json_text('metadata', 'page_url') }} as page_url,
    cast({{ json_text('metadata', 'product_id') }} as integer) as product_id,
    cast({{ json_text('metadata', 'quantity') }} as integer) as quantity,
    cast({{ json_text('metadata', 'order_id') }} as integer) as order_id,
    cast(_loaded_at as timestamp) as loaded_at
from latest_snapshot
