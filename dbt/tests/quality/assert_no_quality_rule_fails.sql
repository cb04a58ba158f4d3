-- A rule above its fail threshold fails the build (its rows name the rule and the measured rate).
select rule_name, failure_rate, fail_above_rate from {{ ref('mart_data_quality') }} where status = 'fail'
