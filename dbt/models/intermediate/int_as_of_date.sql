-- The one "today" of the project: var as_of_date when given, else the latest order date in the data.
-- Every recency, churn and status rule reads this row, never the wall clock, so a rebuild on the same data
-- gives the same marts. Always exactly one row (an aggregate without GROUP BY).
{%- set as_of = var('as_of_date', none) %}

select
    coalesce(
        {% if as_of %}cast('{{ as_of }}' as date){% else %}cast(null as date){% endif %},
        max(order_date)
    ) as as_of_date
from {{ ref('stg_orders') }}
