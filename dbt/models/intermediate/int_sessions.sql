-- One row per tracking session up to as_of_date: when it started, on which device, and the funnel steps it reached.
-- Steps are nested and ordered: a session reaches a step only if it reached the previous one no later than this
-- step's first event (tracking can record a purchase without a checkout, or out of order). has_* are the raw flags.
with as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

events as (
    select e.*
    from {{ ref('stg_events') }} as e
    cross join as_of
    where e.event_date <= as_of.as_of_date
),

completed_orders as (
    select order_key from {{ ref('fct_orders') }}
    where is_completed
),

sessions as (
    select
        e.session_id,
        min(e.event_at) as session_started_at,
        -- A session is one device; min() picks a value deterministically should the tracker disagree.
        coalesce(min(e.device), 'unknown') as device,
        max(e.user_id) as user_id,
        count(*) as events,
        min(case when e.event_type = 'page_view' then e.event_at end) as first_page_view_at,
        min(case when e.event_type = 'add_to_cart' then e.event_at end) as first_add_to_cart_at,
        min(case when e.event_type = 'checkout_start' then e.event_at end) as first_checkout_at,
        min(case when e.event_type = 'purchase' then e.event_at end) as first_purchase_at,
        min(case when e.event_type = 'purchase' and c.order_key is not null then e.event_at end)
            as first_completed_purchase_at
    from events as e
    left join completed_orders as c on e.event_type = 'purchase' and e.order_id = c.order_key
    group by e.session_id
),

steps as (
    select
        *,
        first_page_view_at is not null as reached_page_view,
        first_add_to_cart_at >= first_page_view_at as reached_add_to_cart
    from sessions
),

later_steps as (
    select
        *,
        reached_add_to_cart and first_checkout_at >= first_add_to_cart_at as reached_checkout
    from steps
),

final_steps as (
    select
        *,
        reached_checkout and first_purchase_at >= first_checkout_at as reached_purchase,
        reached_checkout and first_completed_purchase_at >= first_checkout_at as reached_completed_purchase
    from later_steps
)

select
    session_id,
    session_started_at,
    cast(session_started_at as date) as session_date,
    device,
    user_id,
    events,
    first_page_view_at is not null as has_page_view,
    first_add_to_cart_at is not null as has_add_to_cart,
    first_checkout_at is not null as has_checkout,
    first_purchase_at is not null as has_purchase,
    coalesce(reached_page_view, false) as reached_page_view,
    coalesce(reached_add_to_cart, false) as reached_add_to_cart,
    coalesce(reached_checkout, false) as reached_checkout,
    coalesce(reached_purchase, false) as reached_purchase,
    coalesce(reached_completed_purchase, false) as reached_completed_purchase
from final_steps
