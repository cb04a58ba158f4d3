{#
    Attach the stack's governance to every relation dbt builds on Snowflake (a post-hook of every model):
    - tag PII_SENSITIVITY = <sensitivity> on each column whose yml meta has `personal_data`,
    - tag FINANCIAL = 'true' on each column whose yml meta says `financial: true`
      (the tags carry the masking policies: infra/governance.py; names: pipeline/privacy/policies.py),
    - row access policy EU_ONLY on relations with a country_code column, MERCHANT_ROWS on those with merchant_id.
    Tagging a new column in yml protects it: no code changes. On DuckDB (no policies) nothing is attached.
    A Snowflake endpoint on the loopback interface is an emulator (fakesnow), which accepts tags but not row access
    policies: there only the tags are set.
#}
{% macro apply_governance() -%}
    {{ return(adapter.dispatch('apply_governance', 'shopstream')()) }}
{%- endmacro %}

{% macro default__apply_governance() -%}
{%- endmacro %}

{% macro snowflake__apply_governance() -%}
    {%- if execute -%}
        {%- for statement in shopstream.governance_statements(model, this) -%}
            {%- do run_query(statement) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{# The statements for one node (a model's graph entry) and its relation, in order. #}
{% macro governance_statements(node, relation) -%}
    {%- set schema = target.database ~ '.CORE' -%}
    {%- set kind = 'view' if node.config.materialized == 'view' else 'table' -%}
    {%- set statements = [] -%}
    {%- for name, column in node.columns.items() -%}
        {%- set meta = column.meta if column.meta is defined else column.get('meta', {}) -%}
        {%- if meta.get('personal_data') -%}
            {%- do statements.append(
                "alter " ~ kind ~ " " ~ relation ~ " modify column " ~ name ~ " set tag " ~ schema
                ~ ".PII_SENSITIVITY = '" ~ meta['personal_data']['sensitivity'] ~ "'") -%}
        {%- endif -%}
        {%- if meta.get('financial') -%}
            {%- do statements.append(
                "alter " ~ kind ~ " " ~ relation ~ " modify column " ~ name ~ " set tag " ~ schema ~ ".FINANCIAL = 'true'") -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if target.host not in ('127.0.0.1', 'localhost') -%}
        {%- set columns = node.columns.keys() | list -%}
        {%- if 'country_code' in columns -%}
            {%- do statements.append("alter " ~ kind ~ " " ~ relation ~ " add row access policy " ~ schema ~ ".EU_ONLY on (country_code)") -%}
        {%- elif 'merchant_id' in columns -%}
            {%- do statements.append("alter " ~ kind ~ " " ~ relation ~ " add row access policy " ~ schema ~ ".MERCHANT_ROWS on (merchant_id)") -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(statements) }}
{%- endmacro %}

{# `dbt run-operation governance_plan --target snowflake`: every statement the post-hooks would run, as JSON lines. #}
{% macro governance_plan() -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' -%}
        {%- set relation = adapter.quote_as_configured(node.database, 'database') ~ '.' ~ node.schema ~ '.' ~ node.alias -%}
        {%- for statement in shopstream.governance_statements(node, relation) -%}
            {{ print(tojson({'model': node.name, 'sql': statement})) }}
        {%- endfor -%}
    {%- endfor -%}
{%- endmacro %}
