{#
    SCD2 history of the user attributes analyses slice by: plan, country, active flag. No email or name: history is
    kept for cohorts, not for people (`shopstream forget` deletes an erased user's versions). The timestamp strategy
    dates each version by the source's updated_at, so validity ranges are business time, never the run's clock.
#}
{% snapshot snp_users %}
    {{ config(target_schema='CORE', unique_key='user_id', strategy='timestamp', updated_at='updated_at') }}
    select user_id, plan_type, country_code, is_active, updated_at
    from {{ ref('stg_users') }}
{% endsnapshot %}
