-- CRM funnel by acquisition source: contact → signup (a user registered with the contact's email)
-- → first order (that user has at least one completed order). People are matched on the salted person key,
-- never on the raw email.
with contacts as (
    select * from {{ ref('stg_crm_contacts') }}
),

users as (
    select customer_key, person_key, completed_orders from {{ ref('dim_customers') }}
),

journeys as (
    select
        c.acquisition_source,
        c.is_converted,
        u.customer_key is not null as has_signed_up,
        coalesce(u.completed_orders, 0) > 0 as has_ordered
    from contacts as c
    left join users as u on {{ person_key('c.email') }} = u.person_key
),

by_source as (
    select
        acquisition_source,
        count(*) as contacts,
        cast(sum(case when is_converted then 1 else 0 end) as bigint) as crm_converted_contacts,
        cast(sum(case when has_signed_up then 1 else 0 end) as bigint) as signups,
        cast(sum(case when has_ordered then 1 else 0 end) as bigint) as first_orders
    from journeys
    group by acquisition_source
)

select
    acquisition_source,
    contacts,
    crm_converted_contacts,
    signups,
    first_orders,
    {{ safe_rate('signups', 'contacts') }} as signup_rate,
    {{ safe_rate('first_orders', 'signups') }} as signup_to_order_rate,
    {{ safe_rate('first_orders', 'contacts') }} as contact_to_order_rate
from by_source
