-- Web funnel by day and device: how many sessions reached each step, and the step-to-step rates.
-- A session counts at a step when it has at least one event of that type.
with sessions as (
    select * from {{ ref('int_sessions') }}
),

steps as (
    select
        session_date,
        device,
        count(*) as sessions,
        cast(sum(case when has_page_view then 1 else 0 end) as bigint) as page_view_sessions,
        cast(sum(case when has_add_to_cart then 1 else 0 end) as bigint) as add_to_cart_sessions,
        cast(sum(case when has_checkout then 1 else 0 end) as bigint) as checkout_sessions,
        cast(sum(case when has_purchase then 1 else 0 end) as bigint) as purchase_sessions
    from sessions
    group by session_date, device
)

select
    session_date,
    device,
    sessions,
    page_view_sessions,
    add_to_cart_sessions,
    checkout_sessions,
    purchase_sessions,
    {{ safe_rate('add_to_cart_sessions', 'page_view_sessions') }} as cart_rate,
    {{ safe_rate('checkout_sessions', 'add_to_cart_sessions') }} as checkout_rate,
    {{ safe_rate('purchase_sessions', 'checkout_sessions') }} as purchase_rate,
    {{ safe_rate('purchase_sessions', 'sessions') }} as conversion_rate
from steps
