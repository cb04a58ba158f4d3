{#
    RAW keeps every load: each extraction is a full snapshot of a source table, written to the lake under
    `dt=YYYY-MM-DD/` and loaded with that path in `_source_file`. Staging reads only the rows of the latest snapshot
    of each table (see stg_load_snapshots), so a row deleted in the source leaves staging with the next snapshot.
#}

{# The extraction date of a lake file, from the `dt=YYYY-MM-DD` partition in its path (NULL when absent). #}
{% macro snapshot_date(path_column) -%}
    {{ return(adapter.dispatch('snapshot_date', 'shopstream')(path_column)) }}
{%- endmacro %}

{% macro default__snapshot_date(path_column) -%}
    try_cast(regexp_extract({{ path_column }}, 'dt=([0-9]{4}-[0-9]{2}-[0-9]{2})', 1) as date)
{%- endmacro %}

{% macro snowflake__snapshot_date(path_column) -%}
    try_to_date(regexp_substr({{ path_column }}, 'dt=([0-9]{4}-[0-9]{2}-[0-9]{2})', 1, 1, 'e', 1))
{%- endmacro %}

{#
    The rows of `table`'s latest snapshot: the files of its latest extraction date, each in its latest load (a file
    loaded twice counts once). An equality join on `_source_file`, so engines prune RAW instead of ranking history.
#}
{% macro latest_snapshot(table) -%}
    select raw_rows.*
    from {{ source('raw', table) }} as raw_rows
    inner join {{ ref('stg_load_snapshots') }} as snapshot
        on raw_rows._source_file = snapshot.source_file
        and raw_rows._loaded_at = snapshot.loaded_at
    where snapshot.table_name = '{{ table }}'
      and snapshot.is_latest_snapshot
{%- endmacro %}

{# The RAW tables staging reads, in load order. #}
{% macro raw_tables() -%}
    {{ return(['users', 'products', 'orders', 'order_items', 'events', 'crm_contacts']) }}
{%- endmacro %}

{# Statuses that mean the customer paid: the only orders counted as revenue. #}
{% macro completed_statuses() -%}
    ('PAID', 'SHIPPED', 'DELIVERED')
{%- endmacro %}

{#
    numerator / denominator as a share rounded to 4 decimals; NULL when the denominator is 0. Both sides are cast
    to a float first: Snowflake divides numbers exactly, DuckDB in floating point; cast, they round the same.
#}
{% macro safe_rate(numerator, denominator) -%}
    round(cast({{ numerator }} as {{ dbt.type_float() }}) / cast(nullif({{ denominator }}, 0) as {{ dbt.type_float() }}), 4)
{%- endmacro %}

{#
    An amount of money: sums are cast back to a fixed decimal so every engine returns the same exact type
    (DuckDB would widen to DECIMAL(38,2), some emulators fall back to floating point).
#}
{% macro money(expression) -%}
    cast({{ expression }} as decimal(18, 2))
{%- endmacro %}

{#
    An amount of money divided by a count, to the cent, half up; NULL when the count is 0. Computed on whole cents
    so both engines give the same cent: Snowflake divides exactly, DuckDB in floating point, and the floor of a
    quotient of integers is the same either way (it is never within rounding error of the next integer).
#}
{% macro money_per(amount, count) -%}
    {{ money(
        'cast(floor(cast(2 * cast(' ~ amount ~ ' * 100 as bigint) + ' ~ count ~ ' as bigint)'
        ~ ' / cast(2 * nullif(' ~ count ~ ', 0) as bigint)) as decimal(18, 0)) * cast(0.01 as decimal(3, 2))'
    ) }}
{%- endmacro %}

{#
    Score 1–5 (5 best) from the customer's mid-rank percentile: the share of customers with a worse value plus half
    the share with an equal value, p = (worse + equal / 2) / n, and score = ceil(5 × p). Equal values get equal
    scores whatever the customers' ids; with distinct values it matches NTILE(5) on 10 customers; one customer alone
    scores 3. Computed on integers, ceil(5 × (2 × worse + equal) / 2n), so no engine rounds it differently.
    `better` says which values are better: 'higher' or 'lower'.
#}
{% macro quintile_score(column, better='higher') -%}
    {%- set worst_first = 'asc' if better == 'higher' else 'desc' -%}
    {%- set no_better = 'count(*) over (order by ' ~ column ~ ' ' ~ worst_first
        ~ ' nulls first range between unbounded preceding and current row)' -%}
    {%- set equal = 'count(*) over (partition by ' ~ column ~ ')' -%}
    cast(floor(
        cast(5 * (2 * {{ no_better }} - {{ equal }}) + 2 * count(*) over () - 1 as bigint)
        / cast(2 * count(*) over () as bigint)
    ) as integer)
{%- endmacro %}

{# Monday of a date's week, whatever the engine's week-start setting (Snowflake's WEEK_START). #}
{% macro week_start(date_expr) -%}
    cast({{ dbt.dateadd('day', '1 - ' ~ shopstream.iso_day_of_week(date_expr), date_expr) }} as date)
{%- endmacro %}
