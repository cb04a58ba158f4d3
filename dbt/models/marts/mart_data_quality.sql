-- The course's business rules as measured failure rates, each with its thresholds: `warn` above warn_above_rate,
-- `fail` above fail_above_rate. One row per rule per build; pipeline/quality writes the report and its history.
-- Thresholds are shares (0.01 = 1 %). Freshness compares tables with each other, never with the wall clock.
with users as (select * from {{ ref('stg_users') }}),

contacts as (select * from {{ ref('stg_crm_contacts') }}),

orders as (select * from {{ ref('stg_orders') }}),

items as (select * from {{ ref('stg_order_items') }}),

products as (select * from {{ ref('stg_products') }}),

-- The rules' later selects take their column names from the first one, as every union does.
-- noqa: disable=AL03
measured as (
    select
        'valid_user_emails' as rule_name, 'stg_users' as checked_model, 'email is a well-formed address' as rule,
        count(*) as checked_rows,
        sum(case when {{ matches_regex('email', '[^@[:space:]]+@[^@[:space:]]+[.][a-z]{2,}') }} then 0 else 1 end)
            as failed_rows,
        0.01 as warn_above_rate, 0.05 as fail_above_rate
    from users
    union all
    select
        'valid_contact_emails', 'stg_crm_contacts', 'email is a well-formed address', count(*),
        sum(case when {{ matches_regex('email', '[^@[:space:]]+@[^@[:space:]]+[.][a-z]{2,}') }} then 0 else 1 end),
        0.01, 0.05
    from contacts
    union all
    select
        'positive_order_lines', 'stg_order_items', 'quantity > 0 and line_total > 0', count(*),
        sum(case when quantity > 0 and line_total > 0 then 0 else 1 end), 0.0, 0.01
    from items
    union all
    select
        'non_negative_order_totals', 'stg_orders', 'total_amount >= 0', count(*),
        sum(case when total_amount >= 0 then 0 else 1 end), 0.0, 0.0
    from orders
    union all
    select
        'coherent_order_dates', 'stg_orders', 'updated_at >= ordered_at', count(*),
        sum(case when updated_at >= ordered_at then 0 else 1 end), 0.005, 0.02
    from orders
    union all
    select
        'coherent_login_dates', 'stg_users', 'last_login_at is null or >= registered_at', count(*),
        sum(case when last_login_at is null or last_login_at >= registered_at then 0 else 1 end), 0.005, 0.02
    from users
    union all
    select
        'orders_have_a_user', 'stg_orders', 'user_id exists in stg_users', count(*),
        sum(case when u.user_id is null then 1 else 0 end), 0.0, 0.001
    from orders as o left join users as u on o.user_id = u.user_id
    union all
    select
        'lines_have_an_order_and_product', 'stg_order_items', 'order and product exist', count(*),
        sum(case when o.order_id is null or p.product_id is null then 1 else 0 end), 0.0, 0.001
    from items as i
    left join orders as o on i.order_id = o.order_id
    left join products as p on i.product_id = p.product_id
    union all
    -- Freshness: a source table whose latest load is more than a day behind the newest load of any table.
    select
        'fresh_source_tables', 'RAW', 'latest load within 1 day of the newest load', count(*),
        sum(case when {{ dbt.datediff('latest_load', 'newest_load', 'hour') }} > 24 then 1 else 0 end), 0.0, 0.5  -- noqa: LT05
    from (
        select latest_load, max(latest_load) over () as newest_load
        from (
            select max(loaded_at) as latest_load from users
            union all
            select max(loaded_at) from contacts
            union all
            select max(loaded_at) from orders
            union all
            select max(loaded_at) from items
            union all
            select max(loaded_at) from products
            union all
            select max(loaded_at) from {{ ref('stg_events') }}
        ) as loads
    ) as freshness
)
-- noqa: enable=AL03

select
    rule_name,
    checked_model,
    rule,
    cast(checked_rows as bigint) as checked_rows,
    cast(coalesce(failed_rows, 0) as bigint) as failed_rows,
    coalesce({{ safe_rate('failed_rows', 'checked_rows') }}, 0) as failure_rate,
    cast(warn_above_rate as {{ dbt.type_float() }}) as warn_above_rate,
    cast(fail_above_rate as {{ dbt.type_float() }}) as fail_above_rate,
    case
        when coalesce({{ safe_rate('failed_rows', 'checked_rows') }}, 0) > fail_above_rate then 'fail'
        when coalesce({{ safe_rate('failed_rows', 'checked_rows') }}, 0) > warn_above_rate then 'warn'
        else 'pass'
    end as status
from measured
