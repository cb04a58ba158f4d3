{#
    Fails on every row where the SQL expression is not true (false or NULL). With column_name, the expression is
    applied to that column: `expression: ">= 0"`; without, it is a whole predicate: `expression: "a <= b"`.
#}
{% test expression_is_true(model, expression, column_name=none) %}
    select *
    from {{ model }}
    where not coalesce(({{ column_name ~ ' ' if column_name else '' }}{{ expression }}), false)
{% endtest %}
