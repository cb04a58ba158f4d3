with latest_snapshot as (
    {{ latest_snapshot('users') }}
)

select
    cast(id as integer) as user_id,
    lower(trim(email)) as email,
    trim(first_name) as first_name,
    trim(last_name) as last_name,
    upper(trim(country)) as country_code,
    lower(trim(plan_type)) as plan_type,
    cast(created_at as timestamp) as registered_at,
    cast(updated_at as timestamp) as updated_at,
    cast(last_login as timestamp) as last_login_at,
    cast(is_active as boolean) as is_active,
    cast(_loaded_at as timestamp) as loaded_at
from latest_snapshot
