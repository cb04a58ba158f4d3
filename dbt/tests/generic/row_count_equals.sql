{# Fails when the model has not exactly `rows` rows (single-row models such as the analysis date). #}
{% test row_count_equals(model, rows) %}
    select count(*) as row_count
    from {{ model }}
    having count(*) != {{ rows }}
{% endtest %}
