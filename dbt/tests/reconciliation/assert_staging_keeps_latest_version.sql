-- Staging holds exactly one row per primary key found in RAW, and it is the most recently loaded version.
with raw_orders as (
    select id, status, _loaded_at from {{ source('raw', 'orders') }}
),

latest_load as (
    select id, max(_loaded_at) as latest_loaded_at from raw_orders group by id
)

select l.id
from latest_load as l
left join {{ ref('stg_orders') }} as s on l.id = s.order_id
where s.order_id is null or s.loaded_at != l.latest_loaded_at
