-- A rule above its warn threshold (but under the fail one) is a warning, not an error.
{{ config(severity='warn') }}
select rule_name, failure_rate, warn_above_rate from {{ ref('mart_data_quality') }} where status = 'warn'
