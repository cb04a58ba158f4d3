-- One row per user registered up to as_of_date, with plan segment and purchase history measured on completed
-- orders up to that day (fct_orders is bounded to as_of_date, so recency is never negative).
with as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

users as (
    select u.*
    from {{ ref('stg_users') }} as u
    cross join as_of
    where cast(u.registered_at as date) <= as_of.as_of_date
),

all_orders as (
    select customer_key, count(*) as placed_orders
    from {{ ref('fct_orders') }}
    group by customer_key
),

completed_orders as (
    select
        customer_key,
        min(date_key) as first_order_date,
        max(date_key) as last_order_date,
        count(*) as completed_orders,
        {{ money('sum(lines_revenue)') }} as lifetime_value
    from {{ ref('fct_orders') }}
    where is_completed
    group by customer_key
),

history as (
    select
        u.*,
        coalesce(a.placed_orders, 0) as placed_orders,
        c.first_order_date,
        c.last_order_date,
        coalesce(c.completed_orders, 0) as completed_orders,
        coalesce(c.lifetime_value, 0) as lifetime_value,
        {{ dbt.datediff('c.last_order_date', 'as_of.as_of_date', 'day') }} as days_since_last_order  -- noqa: LT05
    from users as u
    cross join as_of
    left join all_orders as a on u.user_id = a.customer_key
    left join completed_orders as c on u.user_id = c.customer_key
)

select
    user_id as customer_key,
    {{ person_key('email') }} as person_key,
    email,
    first_name,
    last_name,
    trim(coalesce(first_name, '') || ' ' || coalesce(last_name, '')) as full_name,
    country_code,
    plan_type,
    case when plan_type in ('premium', 'enterprise') then 'Premium' else 'Freemium' end as customer_segment,
    is_active,
    registered_at,
    cast(registered_at as date) as registration_date,
    last_login_at,
    first_order_date,
    last_order_date,
    placed_orders,
    completed_orders,
    lifetime_value,
    {{ money_per('lifetime_value', 'completed_orders') }} as avg_order_value,
    days_since_last_order,
    case
        when last_order_date is null then 'No purchase'
        when days_since_last_order <= 90 then 'Active'
        when days_since_last_order <= 180 then 'At risk'
        else 'Churned'
    end as customer_status
from history
