-- An order's total is the sum of its lines (orders without lines are left to the source's own checks).
select order_key, order_total, lines_revenue
from {{ ref('fct_orders') }}
where line_count > 0
  and order_total != lines_revenue
