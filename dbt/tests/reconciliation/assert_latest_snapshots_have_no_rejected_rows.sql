-- A row the loader rejected is missing from its snapshot, so staging would treat it as deleted in the source.
-- The build stops instead: one row per table whose latest snapshot (or a newer, entirely refused file) had rows
-- rejected, as recorded in RAW._LOAD_ERRORS (the Snowflake loader writes it; a warehouse without it passes).
{%- set load_errors = none %}
{%- if execute %}
    {%- set load_errors = adapter.get_relation(database=target.database, schema='RAW', identifier='_LOAD_ERRORS') %}
{%- endif %}

with latest_snapshots as (
    select table_name, max(snapshot_date) as snapshot_date
    from {{ ref('stg_load_snapshots') }}
    group by table_name
)

{% if load_errors %}
, rejections as (
    select
        lower(table_name) as table_name,
        coalesce({{ snapshot_date('file_name') }}, cast(extract_date as date)) as snapshot_date
    from {{ load_errors }}
)

select r.table_name, r.snapshot_date, count(*) as rejected_rows
from rejections as r
left join latest_snapshots as s on r.table_name = s.table_name
where s.snapshot_date is null or r.snapshot_date >= s.snapshot_date
group by r.table_name, r.snapshot_date
{% else %}
select table_name, snapshot_date, 0 as rejected_rows
from latest_snapshots
where 1 = 0
{% endif %}
