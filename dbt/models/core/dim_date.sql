-- One row per calendar day from the first day in the data (order, event, registration or contact) to as_of_date.
-- Built from the data's own range, never the wall clock. COALESCE inside LEAST: Snowflake's LEAST is NULL as soon as
-- one argument is (an empty table), DuckDB's skips NULLs.
with bounds as (
    select
        least(
            coalesce((select min(order_date) from {{ ref('stg_orders') }}), cast('9999-12-31' as date)),
            coalesce((select cast(min(event_at) as date) from {{ ref('stg_events') }}), cast('9999-12-31' as date)),
            coalesce((select cast(min(registered_at) as date) from {{ ref('stg_users') }}), cast('9999-12-31' as date)),
            coalesce(
                (select cast(min(contacted_at) as date) from {{ ref('stg_crm_contacts') }}), cast('9999-12-31' as date)
            )
        ) as first_day,
        (select as_of_date from {{ ref('int_as_of_date') }}) as last_day
),

days as (
    {{ date_spine('(select first_day from bounds)', '(select last_day from bounds)') }}
)

select
    date_day as date_key,
    date_day,
    cast(extract(year from date_day) as integer) as year,
    cast(extract(quarter from date_day) as integer) as quarter,
    cast(extract(month from date_day) as integer) as month,
    {{ month_name('date_day') }} as month_name,
    cast(extract(day from date_day) as integer) as day_of_month,
    cast({{ iso_day_of_week('date_day') }} as integer) as iso_day_of_week,
    {{ day_name('date_day') }} as day_name,
    cast({{ iso_day_of_week('date_day') }} as integer) >= 6 as is_weekend,
    cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start,
    {{ week_start('date_day') }} as week_start
from days
