"""The lake contract: partition names round-trip, manifests (de)serialise, malformed manifests are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import ShopstreamError
from pipeline.lake import Lake
from pipeline.lake_contract import (
    Manifest,
    ManifestFile,
    finished_dates,
    latest_manifest,
    manifest_key,
    part_key,
    partition_date,
    read_manifest,
    stage_path,
    write_manifest,
)
from pipeline.settings import LakeSettings

ENTRY = ManifestFile(table="orders", key=part_key("orders", "2026-11-24"), rows=3, bytes=120, sha256="ab" * 32)


def test_partition_keys_and_dates_round_trip() -> None:
    key = part_key("crm_contacts", "2026-11-24")
    assert key == "raw/crm/dt=2026-11-24/part-0000.parquet"
    assert partition_date(key) == "2026-11-24"
    assert partition_date("raw/crm/part-0000.parquet") is None
    assert partition_date("raw/crm/xdt=2026-11-24/a.parquet") is None
    assert stage_path(key) == "crm/dt=2026-11-24"
    assert manifest_key("2026-11-24") == "raw/_manifests/dt=2026-11-24/manifest.json"


def test_a_manifest_survives_the_lake_and_lists_finished_dates(tmp_path: Path) -> None:
    lake = Lake.from_settings(LakeSettings(uri=str(tmp_path / "lake")))
    for day, rows in (("2026-11-24", 3), ("2026-11-25", 5)):
        write_manifest(lake, Manifest(day, (ManifestFile(**{**ENTRY.to_json(), "rows": rows}),)))
    assert finished_dates(lake) == ["2026-11-24", "2026-11-25"]
    latest = latest_manifest(lake)
    assert latest is not None and latest.extract_date == "2026-11-25" and latest.rows == {"orders": 5}
    assert read_manifest(lake, "2026-11-24") == Manifest.from_json(lake.read_json(manifest_key("2026-11-24")))
    assert read_manifest(lake, "2026-11-26") is None


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ([], "is not a manifest"),
        ({"extract_date": "2026-11-24"}, "is not a manifest"),
        ({"extract_date": "24.11.2026", "files": []}, "is not YYYY-MM-DD"),
        ({"extract_date": "2026-11-24", "files": [{**ENTRY.to_json(), "rows": "3"}]}, "rows must be int"),
        ({"extract_date": "2026-11-24", "files": [{**ENTRY.to_json(), "sha256": None}]}, "sha256 must be str"),
        ({"extract_date": "2026-11-24", "files": [{**ENTRY.to_json(), "bytes": -1}]}, "cannot be negative"),
        ({"extract_date": "2026-11-24", "files": ["orders"]}, "must be a JSON object"),
    ],
)
def test_a_malformed_manifest_is_a_one_line_error(document: object, problem: str) -> None:
    with pytest.raises(ShopstreamError, match=problem):
        Manifest.from_json(document, "lake/raw/_manifests/x/manifest.json")


def test_a_key_outside_its_tables_layout_is_refused_before_loading() -> None:
    tampered = Manifest("2026-11-24", (ManifestFile(**{**ENTRY.to_json(), "key": "raw/crm/dt=2026-11-24/x.parquet"}),))
    with pytest.raises(ShopstreamError, match="not a orders file of the lake layout"):
        tampered.keys_by_table()
    assert Manifest("2026-11-24", (ENTRY,)).keys_by_table() == {"orders": [ENTRY.key]}
