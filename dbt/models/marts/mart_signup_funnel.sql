-- The visitor-level funnel by month, up to as_of_date: visitors → signups → first completed order.
-- Visitors: people with a tracked session in the month (a logged-in user once, an anonymous session each, as
-- nothing links anonymous sessions). Signups: users registered in the month (the cohort). First orders: users of
-- the cohort with a completed order by as_of_date, and the days from their signup to that first order.
with visits as (
    select
        cast({{ dbt.date_trunc('month', 'session_date') }} as date) as month_start,
        count(distinct user_id) + cast(sum(case when user_id is null then 1 else 0 end) as bigint) as visitors
    from {{ ref('int_sessions') }}
    group by 1
),

cohorts as (
    select
        cast({{ dbt.date_trunc('month', 'registration_date') }} as date) as month_start,
        count(*) as signups,
        cast(sum(case when first_order_date is not null then 1 else 0 end) as bigint) as first_orders,
        sum({{ dbt.datediff('registration_date', 'first_order_date', 'day') }}) as days_to_first_order
    from {{ ref('dim_customers') }}
    group by 1
),

months as (
    select month_start from visits
    union
    select month_start from cohorts
)

select
    m.month_start,
    coalesce(v.visitors, 0) as visitors,
    coalesce(c.signups, 0) as signups,
    coalesce(c.first_orders, 0) as first_orders,
    {{ safe_rate('coalesce(c.signups, 0)', 'coalesce(v.visitors, 0)') }} as signup_rate,
    {{ safe_rate('coalesce(c.first_orders, 0)', 'coalesce(c.signups, 0)') }} as first_order_rate,
    round(
        cast(c.days_to_first_order as {{ dbt.type_float() }})
        / cast(nullif(c.first_orders, 0) as {{ dbt.type_float() }}),
        1
    ) as avg_days_to_first_order
from months as m
left join visits as v on m.month_start = v.month_start
left join cohorts as c on m.month_start = c.month_start
