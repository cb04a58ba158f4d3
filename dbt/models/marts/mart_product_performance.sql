-- Products that sold on completed orders, ranked by revenue with an ABC (Pareto) class and a tier.
with lines as (
    select * from {{ ref('fct_order_items') }}
    where is_completed
),

products as (
    select product_key, product_name, product_category, merchant_id from {{ ref('dim_products') }}
),

product_sales as (
    select
        l.product_key,
        count(distinct l.order_key) as total_orders,
        cast(sum(l.quantity) as bigint) as total_quantity_sold,
        {{ money('sum(l.line_revenue)') }} as total_revenue,
        {{ money('sum(l.estimated_margin)') }} as total_margin,
        min(l.date_key) as first_sale_date,
        max(l.date_key) as last_sale_date
    from lines as l
    group by l.product_key
),

ranked as (
    select
        s.*,
        -- Ties on revenue are broken by product key so ranks and classes never change between runs.
        row_number() over (order by s.total_revenue desc nulls last, s.product_key asc) as revenue_rank,
        {{ money('sum(s.total_revenue) over (
            order by s.total_revenue desc nulls last, s.product_key rows between unbounded preceding and current row
        )') }} as cumulative_revenue,
        {{ money('sum(s.total_revenue) over ()') }} as all_products_revenue
    from product_sales as s
)

select
    r.product_key,
    p.merchant_id,
    coalesce(p.product_name, 'Unknown') as product_name,
    coalesce(p.product_category, 'Unknown') as product_category,
    r.total_orders,
    r.total_quantity_sold,
    r.total_revenue,
    {{ money_per('r.total_revenue', 'r.total_quantity_sold') }} as avg_unit_price,
    r.total_margin,
    r.first_sale_date,
    r.last_sale_date,
    r.revenue_rank,
    round(
        cast(r.total_revenue as {{ dbt.type_float() }})
        / cast(nullif(r.all_products_revenue, 0) as {{ dbt.type_float() }}),
        6
    ) as revenue_share,
    round(
        cast(r.cumulative_revenue as {{ dbt.type_float() }})
        / cast(nullif(r.all_products_revenue, 0) as {{ dbt.type_float() }}),
        6
    ) as cumulative_revenue_share,
    -- Compared on exact decimals, not on the rounded share, so a product on a boundary is classed the same everywhere.
    case
        when r.cumulative_revenue <= 0.80 * r.all_products_revenue then 'A'
        when r.cumulative_revenue <= 0.95 * r.all_products_revenue then 'B'
        else 'C'
    end as abc_class,
    case
        when r.revenue_rank <= 10 then 'Top 10'
        when r.revenue_rank <= 50 then 'Top 50'
        else 'Long tail'
    end as performance_tier
from ranked as r
left join products as p on r.product_key = p.product_key
