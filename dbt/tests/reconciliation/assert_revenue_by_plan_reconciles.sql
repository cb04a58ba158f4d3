-- Revenue by plan at order time loses or doubles nothing: it equals the completed orders' revenue (a user with two
-- overlapping versions would double their orders; a gap would not lose them, it would show as `unknown`).
with by_plan as (
    select {{ money('sum(total_revenue)') }} as revenue, sum(completed_orders) as orders
    from {{ ref('mart_revenue_by_plan') }}
),

facts as (
    select {{ money('sum(lines_revenue)') }} as revenue, count(*) as orders from {{ ref('fct_orders') }} where is_completed
)

select *
from by_plan
cross join facts
where by_plan.revenue <> facts.revenue or by_plan.orders <> facts.orders
