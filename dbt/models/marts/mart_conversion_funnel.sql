-- Web funnel by day and device: sessions reaching each step, steps nested in order (see int_sessions), and the
-- step-to-step rates. Purchases are counted twice: any purchase event, and purchases of a completed order.
with sessions as (
    select * from {{ ref('int_sessions') }}
),

steps as (
    select
        session_date,
        device,
        count(*) as sessions,
        cast(sum(case when reached_page_view then 1 else 0 end) as bigint) as page_view_sessions,
        cast(sum(case when reached_add_to_cart then 1 else 0 end) as bigint) as add_to_cart_sessions,
        cast(sum(case when reached_checkout then 1 else 0 end) as bigint) as checkout_sessions,
        cast(sum(case when reached_purchase then 1 else 0 end) as bigint) as purchase_sessions,
        cast(sum(case when reached_completed_purchase then 1 else 0 end) as bigint) as completed_purchase_sessions
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
    completed_purchase_sessions,
    {{ safe_rate('add_to_cart_sessions', 'page_view_sessions') }} as cart_rate,
    {{ safe_rate('checkout_sessions', 'add_to_cart_sessions') }} as checkout_rate,
    {{ safe_rate('purchase_sessions', 'checkout_sessions') }} as purchase_rate,
    {{ safe_rate('purchase_sessions', 'sessions') }} as conversion_rate,
    {{ safe_rate('completed_purchase_sessions', 'sessions') }} as completed_conversion_rate
from steps
