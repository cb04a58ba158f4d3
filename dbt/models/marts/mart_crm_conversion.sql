-- CRM funnel by acquisition source, contacts made up to as_of_date: contact → signup (a user registered with the
-- contact's email, matched by person key, at or after the contact) → first order (that user has a completed order). Only what happened
-- after the contact is credited to it, within var crm_attribution_days of the contact when that var is set.
{%- set window_days = var('crm_attribution_days', none) %}

with as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

contacts as (
    select c.*
    from {{ ref('stg_crm_contacts') }} as c
    cross join as_of
    where cast(c.contacted_at as date) <= as_of.as_of_date
),

users as (
    select customer_key, person_key, registered_at from {{ ref('dim_customers') }}
),

first_completed_orders as (
    select customer_key, min(ordered_at) as first_ordered_at
    from {{ ref('fct_orders') }}
    where is_completed
    group by customer_key
),

journeys as (
    select
        c.contact_id,
        c.acquisition_source,
        c.is_converted,
        u.registered_at >= c.contacted_at
        {%- if window_days is not none %}
            and u.registered_at <= {{ dbt.dateadd('day', window_days, 'c.contacted_at') }}
        {%- endif %} as has_signed_up,
        o.first_ordered_at >= c.contacted_at
        {%- if window_days is not none %}
            and o.first_ordered_at <= {{ dbt.dateadd('day', window_days, 'c.contacted_at') }}
        {%- endif %} as has_ordered
    from contacts as c
    left join users as u on c.person_key = u.person_key  -- no email leaves STAGING
    left join first_completed_orders as o on u.customer_key = o.customer_key
),

by_source as (
    select
        acquisition_source,
        count(distinct contact_id) as contacts,
        count(distinct case when is_converted then contact_id end) as crm_converted_contacts,
        count(distinct case when has_signed_up then contact_id end) as signups,
        count(distinct case when has_signed_up and has_ordered then contact_id end) as first_orders
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
