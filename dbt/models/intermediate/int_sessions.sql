-- One row per tracking session: when it started, on which device, and which funnel steps it reached.
with events as (
    select * from {{ ref('stg_events') }}
    where session_id is not null
)

select
    session_id,
    min(event_at) as session_started_at,
    cast(min(event_at) as date) as session_date,
    -- A session is one device; min() picks a value deterministically should the tracker disagree.
    coalesce(min(device), 'unknown') as device,
    max(user_id) as user_id,
    count(*) as events,
    max(case when event_type = 'page_view' then 1 else 0 end) = 1 as has_page_view,
    max(case when event_type = 'add_to_cart' then 1 else 0 end) = 1 as has_add_to_cart,
    max(case when event_type = 'checkout_start' then 1 else 0 end) = 1 as has_checkout,
    max(case when event_type = 'purchase' then 1 else 0 end) = 1 as has_purchase
from events
group by session_id
