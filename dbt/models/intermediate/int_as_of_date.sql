-- The one "today" of the project: var as_of_date when given, else the latest day with activity in the data (an
-- order, a tracking event, a registration or a CRM contact). Every fact and dimension is bounded to this day and
-- every recency, churn and status rule is measured from it, never from the wall clock: the same data gives the
-- same marts, and a past as_of_date gives the marts as they were on that day.
{%- set as_of = var('as_of_date', none) %}

with last_days as (
    select max(order_date) as last_day from {{ ref('stg_orders') }}
    union all
    select max(event_date) from {{ ref('stg_events') }}
    union all
    select max(cast(registered_at as date)) from {{ ref('stg_users') }}
    union all
    select max(cast(contacted_at as date)) from {{ ref('stg_crm_contacts') }}
)

-- Exactly one row either way: an aggregate without GROUP BY.
select {% if as_of %}max(cast('{{ as_of }}' as date)){% else %}max(last_day){% endif %} as as_of_date
from last_days
