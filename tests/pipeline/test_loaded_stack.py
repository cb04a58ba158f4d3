"""The shared `loaded_stack` fixture: generated source, one extraction, RAW equal to the source."""

from __future__ import annotations

import duckdb

from pipeline import source
from pipeline.lake import Lake
from pipeline.lake_contract import manifest_key


def test_loaded_stack_has_the_source_in_the_lake_and_in_raw(loaded_stack) -> None:
    settings, extract_date = loaded_stack
    counts = source.table_counts(source.source_dsn(settings))
    assert all(rows > 0 for rows in counts.values())
    manifest = Lake.from_settings(settings.lake).read_json(manifest_key(extract_date))
    assert {entry["table"]: entry["rows"] for entry in manifest["files"]} == counts
    with duckdb.connect(str(settings.warehouse.path), read_only=True) as con:
        raw = {t: con.execute(f'SELECT count(*) FROM RAW."{t}"').fetchone()[0] for t in counts}
        dates = con.execute(
            "SELECT DISTINCT regexp_extract(_source_file, 'dt=([0-9-]+)', 1) FROM RAW.orders"
        ).fetchall()
    assert raw == counts
    assert dates == [(extract_date,)]
