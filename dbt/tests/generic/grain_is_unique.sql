{#
    Fails on every key of the model's grain (one or more columns) that is NULL or appears on more than one row:
    uniqueness and not-null of a key in one test.
#}
{% test grain_is_unique(model, columns) %}
    select {{ columns | join(', ') }}, count(*) as rows_with_key
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
    {%- for column in columns %} or {{ column }} is null{% endfor %}
{% endtest %}
