-- One row per RAW table × lake file × load: the snapshot (extraction date, from the file's `dt=` partition) it
-- belongs to, and whether it is part of the table's latest snapshot. Ordered by extraction date, not by load time,
-- so a back-filled older partition never wins. A table, not a view: RAW is read once per build, and the staging
-- views join to it on `_source_file` instead of ranking the whole history on every read.
{{ config(materialized='table') }}

with files as (
    {% for table in raw_tables() %}
        select
            '{{ table }}' as table_name,
            _source_file as source_file,
            _loaded_at as loaded_at,
            count(*) as row_count
        from {{ source('raw', table) }}
        group by _source_file, _loaded_at
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

dated as (
    select *, {{ snapshot_date('source_file') }} as snapshot_date
    from files
)

select
    table_name,
    source_file,
    loaded_at,
    row_count,
    snapshot_date,
    (
        snapshot_date = max(snapshot_date) over (partition by table_name)
        and loaded_at = max(loaded_at) over (partition by table_name, source_file)
    ) as is_latest_snapshot
from dated
