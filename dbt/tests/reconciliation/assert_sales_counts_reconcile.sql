-- Completed orders and quantities in the sales mart add up to the order fact. Orders are summed over groups,
-- so an order spanning several categories counts once per category: compare at the (day, country) level.
with mart as (
    select sale_date, country_code, sum(total_quantity) as quantity
    from {{ ref('mart_sales_overview') }}
    group by sale_date, country_code
),

fact as (
    select date_key as sale_date, country_code, sum(total_quantity) as quantity
    from {{ ref('fct_orders') }}
    where is_completed and line_count > 0
    group by date_key, country_code
)

select coalesce(m.sale_date, f.sale_date) as sale_date, coalesce(m.country_code, f.country_code) as country_code
from mart as m
full outer join fact as f on m.sale_date = f.sale_date and m.country_code = f.country_code
where m.quantity is null or f.quantity is null or m.quantity != f.quantity
