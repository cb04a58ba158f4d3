-- Customers with at least one completed order up to as_of_date: lifetime value, RFM scores and segment, churn risk.
-- Recency is measured in days from as_of_date (see int_as_of_date), never from the wall clock.
with customers as (
    select * from {{ ref('dim_customers') }}
    where completed_orders > 0
),

scored as (
    select
        *,
        -- 5 is best. Customers with equal values get equal scores (see quintile_score), whatever their id.
        {{ quintile_score('days_since_last_order', better='lower') }} as recency_score,
        {{ quintile_score('completed_orders', better='higher') }} as frequency_score,
        {{ quintile_score('lifetime_value', better='higher') }} as monetary_score
    from customers
)

select
    customer_key,
    person_key,
    full_name as customer_name,
    full_name,  -- the course guide's name for customer_name (Power BI's customer table)
    email,
    country_code,
    customer_segment,
    customer_status,
    first_order_date,
    last_order_date,
    days_since_last_order as recency_days,
    days_since_last_order,  -- the guide's name for recency_days
    completed_orders,
    completed_orders as total_orders,  -- the guide's name for completed_orders
    lifetime_value,
    avg_order_value,
    recency_score,
    frequency_score,
    monetary_score,
    recency_score + frequency_score + monetary_score as rfm_score,
    recency_score + frequency_score + monetary_score as rfm_total_score,  -- the guide's name for rfm_score
    case
        when recency_score >= 4 and frequency_score >= 4 and monetary_score >= 4 then 'Champions'
        when recency_score >= 3 and frequency_score >= 3 then 'Loyal'
        when recency_score >= 3 then 'Potential'
        when frequency_score >= 3 then 'At risk'
        when recency_score = 2 then 'Hibernating'
        else 'Lost'
    end as rfm_segment,
    case
        when days_since_last_order > 180 then 'High'
        when days_since_last_order > 90 then 'Medium'
        else 'Low'
    end as churn_risk
from scored
