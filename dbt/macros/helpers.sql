{#
    RAW keeps every load of a re-extracted snapshot, so a row may appear once per load. Staging keeps the most
    recent version of each primary key (latest _loaded_at; the file name breaks ties so the pick is stable).
#}
{% macro latest_version(relation, key='id') -%}
    select *
    from {{ relation }}
    qualify row_number() over (
        partition by {{ key }}
        order by _loaded_at desc, _source_file desc
    ) = 1
{%- endmacro %}

{# Statuses that mean the customer paid: the only orders counted as revenue. #}
{% macro completed_statuses() -%}
    ('PAID', 'SHIPPED', 'DELIVERED')
{%- endmacro %}

{# numerator / denominator as a share rounded to 4 decimals; NULL when the denominator is 0. #}
{% macro safe_rate(numerator, denominator) -%}
    round(cast({{ numerator }} as {{ dbt.type_float() }}) / nullif({{ denominator }}, 0), 4)
{%- endmacro %}

{#
    An amount of money: sums are cast back to a fixed decimal so every engine returns the same exact type
    (DuckDB would widen to DECIMAL(38,2), some emulators fall back to floating point).
#}
{% macro money(expression) -%}
    cast({{ expression }} as decimal(18, 2))
{%- endmacro %}
