with latest_snapshot as (
    {{ latest_snapshot('crm_contacts') }}
)

select
    cast(id as integer) as contact_id,
    lower(trim(email)) as email,
    {{ person_key('email') }} as person_key,
    trim(first_name) as first_name,
    trim(last_name) as last_name,
    lower(trim(source)) as acquisition_source,
    campaign_id,
    cast(created_at as timestamp) as contacted_at,
    cast(converted as boolean) as is_converted,
    cast(converted_at as timestamp) as converted_at,
    cast(_loaded_at as timestamp) as loaded_at
from latest_snapshot
