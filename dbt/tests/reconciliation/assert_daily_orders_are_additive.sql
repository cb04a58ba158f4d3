-- mart_daily_orders puts every completed order in exactly one row: its order count adds up to the fact's.
select mart.orders as mart_orders, fact.orders as fact_orders
from (select coalesce(sum(total_orders), 0) as orders from {{ ref('mart_daily_orders') }}) as mart
cross join (
    select count(*) as orders from {{ ref('fct_orders') }} where is_completed and line_count > 0
) as fact
where mart.orders != fact.orders
