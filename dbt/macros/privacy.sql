{#
    The person key: a deterministic, salted SHA-256 (hex) of the normalised email, so marts can count, join and
    follow cohorts of people without holding their emails. The salt is the stack's secret, passed by the pipeline in
    $SHOPSTREAM_PRIVACY_SALT (pipeline.privacy.salt); it is never in the repository. Without it the model fails to
    build rather than produce unsalted (reversible by dictionary) keys. Python's `pipeline.privacy.salt.person_key`
    computes the same value.
#}
{% macro person_key(email_expr) -%}
    {{ return(adapter.dispatch('person_key', 'shopstream')(email_expr)) }}
{%- endmacro %}

{% macro _privacy_salt() -%}
    {%- set salt = env_var('SHOPSTREAM_PRIVACY_SALT', '') -%}
    {%- if execute and salt | length < 16 -%}
        {{ exceptions.raise_compiler_error("no privacy salt: set SHOPSTREAM_PRIVACY_SALT (16+ characters) or run through `shopstream transform`") }}
    {%- endif -%}
    {{ return(salt | replace("'", "''")) }}
{%- endmacro %}

{% macro default__person_key(email_expr) -%}
    sha256('{{ shopstream._privacy_salt() }}' || '|' || lower(trim({{ email_expr }})))
{%- endmacro %}

{% macro snowflake__person_key(email_expr) -%}
    sha2('{{ shopstream._privacy_salt() }}' || '|' || lower(trim({{ email_expr }})), 256)
{%- endmacro %}
