{#
    Models land in the schema named in their config, verbatim and upper-case (STAGING, CORE, MARTS), on every
    target: the warehouse has exactly RAW, STAGING, CORE and MARTS, so dbt's default "<target>_<custom>" prefixing
    would create schemas nobody reads.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim | upper }}
    {%- else -%}
        {{ custom_schema_name | trim | upper }}
    {%- endif -%}
{%- endmacro %}
