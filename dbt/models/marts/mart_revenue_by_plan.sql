-- Revenue by the plan each customer had when they ordered (SCD2 history), per order month, next to the plan they
-- have today: upgrades and downgrades no longer move past revenue between plans.
with orders as (
    select order_key, customer_key, ordered_at, date_key, lines_revenue
    from {{ ref('fct_orders') }}
    where is_completed
),

plan_at_order as (
    select
        o.*,
        coalesce(h.plan_type, 'unknown') as plan_at_order
    from orders as o
    left join {{ ref('int_user_plan_history') }} as h
        on o.customer_key = h.user_id
            and o.ordered_at >= h.valid_from
            and o.ordered_at < h.valid_to
)

select
    cast({{ dbt.date_trunc('month', 'p.date_key') }} as date) as order_month,
    p.plan_at_order,
    coalesce(c.plan_type, 'unknown') as current_plan,
    count(*) as completed_orders,
    count(distinct p.customer_key) as customers,
    {{ money('sum(p.lines_revenue)') }} as total_revenue
from plan_at_order as p
left join {{ ref('dim_customers') }} as c on p.customer_key = c.customer_key
group by 1, 2, 3
