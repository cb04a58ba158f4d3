-- Validity ranges of each user's plan from the SCD2 snapshot, made gap-free for joining facts by time: the first
-- version also covers everything before it (the source only dates a user's latest change), the current version runs
-- to the end of time. A user with no history (erased, or not yet snapshotted) is left to the join's fallback.
with versions as (
    select
        user_id,
        plan_type,
        country_code,
        dbt_valid_from,
        dbt_valid_to,
        row_number() over (partition by user_id order by dbt_valid_from) as version_number
    from {{ ref('snp_users') }}
)

select
    user_id,
    version_number,
    plan_type,
    country_code,
    case when version_number = 1 then cast('1900-01-01' as timestamp) else dbt_valid_from end as valid_from,
    coalesce(dbt_valid_to, cast('9999-12-31' as timestamp)) as valid_to
from versions
