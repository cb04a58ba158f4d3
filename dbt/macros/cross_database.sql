{#
    The few SQL constructs DuckDB and Snowflake spell differently. Models call these macros only, so the same
    project builds on both engines. Where dbt ships a cross-database macro (dbt.datediff, dbt.dateadd) we use it.
#}

{# One top-level key of a JSON object stored as text, as a string (NULL when absent or not JSON). #}
{% macro json_text(column, key) -%}
    {{ return(adapter.dispatch('json_text', 'shopstream')(column, key)) }}
{%- endmacro %}

{% macro default__json_text(column, key) -%}
    json_extract_path_text({{ column }}, '{{ key }}')
{%- endmacro %}

{% macro duckdb__json_text(column, key) -%}
    json_extract_string(try_cast({{ column }} as json), '$.{{ key }}')
{%- endmacro %}

{% macro snowflake__json_text(column, key) -%}
    get_path(try_parse_json({{ column }}), '{{ key }}')::varchar
{%- endmacro %}


{# A query returning one row per day, column `date_day`, from start_date to end_date inclusive (both SQL expressions). #}
{% macro date_spine(start_date, end_date) -%}
    {{ return(adapter.dispatch('date_spine', 'shopstream')(start_date, end_date)) }}
{%- endmacro %}

{# Portable fallback: day offsets from a cross join of digits (up to 100,000 days, about 270 years). #}
{% macro default__date_spine(start_date, end_date) -%}
    select cast({{ dbt.dateadd('day', 'day_offset', start_date) }} as date) as date_day
    from (
        select d1.d + 10 * d2.d + 100 * d3.d + 1000 * d4.d + 10000 * d5.d as day_offset
        from {{ shopstream._digits() }} as d1
        cross join {{ shopstream._digits() }} as d2
        cross join {{ shopstream._digits() }} as d3
        cross join {{ shopstream._digits() }} as d4
        cross join {{ shopstream._digits() }} as d5
    ) as offsets
    where day_offset <= {{ dbt.datediff(start_date, end_date, 'day') }}
{%- endmacro %}

{% macro _digits() -%}
    (select 0 as d union all select 1 union all select 2 union all select 3 union all select 4
     union all select 5 union all select 6 union all select 7 union all select 8 union all select 9)
{%- endmacro %}

{#- generate_series as a list function (not the table function), which accepts scalar subqueries. -#}
{% macro duckdb__date_spine(start_date, end_date) -%}
    select cast(unnest(generate_series(
        cast({{ start_date }} as timestamp), cast({{ end_date }} as timestamp), interval 1 day
    )) as date) as date_day
{%- endmacro %}

{#- GENERATOR needs a constant row count; SEQ4 may have gaps, ROW_NUMBER does not. -#}
{% macro snowflake__date_spine(start_date, end_date) -%}
    select dateadd(day, day_offset, cast({{ start_date }} as date)) as date_day
    from (
        select row_number() over (order by seq4()) - 1 as day_offset
        from table(generator(rowcount => 100000))
    ) as offsets
    where day_offset <= datediff(day, cast({{ start_date }} as date), cast({{ end_date }} as date))
{%- endmacro %}


{# Day of week as 1 (Monday) … 7 (Sunday), the ISO numbering, whatever the engine's week settings. #}
{% macro iso_day_of_week(date_expr) -%}
    {{ return(adapter.dispatch('iso_day_of_week', 'shopstream')(date_expr)) }}
{%- endmacro %}

{% macro default__iso_day_of_week(date_expr) -%}
    extract(isodow from {{ date_expr }})
{%- endmacro %}

{% macro snowflake__iso_day_of_week(date_expr) -%}
    dayofweekiso({{ date_expr }})
{%- endmacro %}


{# English day and month names (DuckDB's dayname/monthname; Snowflake's are abbreviated, so spell them out). #}
{% macro day_name(date_expr) -%}
    case {{ shopstream.iso_day_of_week(date_expr) }}
        when 1 then 'Monday' when 2 then 'Tuesday' when 3 then 'Wednesday' when 4 then 'Thursday'
        when 5 then 'Friday' when 6 then 'Saturday' else 'Sunday'
    end
{%- endmacro %}

{% macro month_name(date_expr) -%}
    case extract(month from {{ date_expr }})
        when 1 then 'January' when 2 then 'February' when 3 then 'March' when 4 then 'April'
        when 5 then 'May' when 6 then 'June' when 7 then 'July' when 8 then 'August'
        when 9 then 'September' when 10 then 'October' when 11 then 'November' else 'December'
    end
{%- endmacro %}


{#
    dbt.type_float() renders `float`: a double on Snowflake, but a 4-byte REAL on DuckDB (about 7 digits), which made
    every rate and share differ between the engines from the 8th digit on. DuckDB gets DOUBLE, Snowflake's precision.
    A root-project `<adapter>__type_float` overrides dbt's own for every `dbt.type_float()` call.
#}
{% macro duckdb__type_float() -%}
    double
{%- endmacro %}


{# True when the whole string matches the regular expression (Snowflake's REGEXP_LIKE is anchored; DuckDB's is not). #}
{% macro matches_regex(expression, pattern) -%}
    {{ return(adapter.dispatch('matches_regex', 'shopstream')(expression, pattern)) }}
{%- endmacro %}

{% macro default__matches_regex(expression, pattern) -%}
    regexp_full_match({{ expression }}, '{{ pattern }}')
{%- endmacro %}

{% macro snowflake__matches_regex(expression, pattern) -%}
    regexp_like({{ expression }}, '{{ pattern }}')
{%- endmacro %}
