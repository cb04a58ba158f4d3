"""The lake on `s3://` behaves exactly like a local directory, proven against moto's S3 server.

moto is a real HTTP endpoint on 127.0.0.1 speaking the S3 protocol, but it does not enforce IAM: these tests
say nothing about the stack's bucket policy or the pipeline user's permissions (a real account verifies those).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from pipeline import source
from pipeline.errors import ShopstreamError
from pipeline.extract import extract
from pipeline.generate import generate
from pipeline.lake import Lake
from pipeline.lake_contract import manifest_key, part_key
from pipeline.load import load
from pipeline.load.duckdb import layer_counts
from pipeline.naming import SOURCE_TABLES
from pipeline.settings import LakeSettings, resolve_settings
from tests.helpers.cloud import free_port, sample_table

DAY = "2026-02-01"


@pytest.fixture
def s3_lake(s3_server: str, s3_bucket: str) -> Lake:
    return Lake.from_settings(
        LakeSettings(uri=f"s3://{s3_bucket}/lake", region="us-east-1", endpoint_override=s3_server)
    )


def test_s3_lake_writes_lists_and_reads_like_a_directory(s3_lake: Lake, tmp_path: Path) -> None:
    local = Lake.from_settings(LakeSettings(uri=str(tmp_path / "lake")))
    data = sample_table("orders", 5)
    key = part_key("orders", DAY)
    for lake in (s3_lake, local):
        written = lake.write_parquet(key, data)
        lake.write_json(manifest_key(DAY), {"files": [{"table": "orders", "key": key, "sha256": written.sha256}]})

    assert s3_lake.list_files("raw") == local.list_files("raw") == [key]
    assert s3_lake.read_table(key).equals(local.read_table(key)) and s3_lake.read_table(key).equals(data)
    assert s3_lake.read_json(manifest_key(DAY)) == local.read_json(manifest_key(DAY))
    assert s3_lake.read_json("raw/_manifests/dt=1999-01-01/manifest.json") is None
    assert s3_lake.read_bytes(key) == local.read_bytes(key)


def test_interrupted_publish_leaves_no_visible_half_file(s3_lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    key = part_key("users", DAY)
    calls = []

    def crash_before_publishing(step_key: str) -> None:
        calls.append(step_key)
        if step_key == key:  # the bytes are in the temporary key; the process dies before the move
            raise OSError("simulated crash")

    monkeypatch.setattr(s3_lake, "_ensure_parent", crash_before_publishing)
    with pytest.raises(ShopstreamError, match="simulated crash"):
        s3_lake.write_parquet(key, sample_table("users", 3))

    assert calls[0].startswith("_tmp/")
    assert not s3_lake.exists(key)
    assert s3_lake.list_files() == []


def test_missing_bucket_is_a_one_line_error(s3_server: str) -> None:
    lake = Lake.from_settings(LakeSettings(uri="s3://no-such-bucket", region="us-east-1", endpoint_override=s3_server))
    with pytest.raises(ShopstreamError) as error:
        lake.write_parquet("raw/x.parquet", pa.table({"a": [1]}))
    assert "\n" not in str(error.value) and "no-such-bucket" in str(error.value)


@pytest.mark.slow
def test_road_extracts_to_s3_and_duckdb_reads_it_back(
    s3_server: str, s3_bucket: str, server_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPSTREAM_HOME", str(server_home))
    monkeypatch.setenv("SHOPSTREAM_PG_PORT", str(free_port()))
    monkeypatch.setenv("SHOPSTREAM_LAKE_URI", f"s3://{s3_bucket}")
    monkeypatch.setenv("SHOPSTREAM_S3_ENDPOINT", s3_server)
    settings = resolve_settings("dev", local=True)
    assert settings.lake.is_s3 and settings.warehouse.kind == "duckdb"
    try:
        generated = generate(source.up(settings), scale=0.01, seed=7)
        lake = Lake.from_settings(settings.lake)

        first = extract(settings, DAY)
        listed = lake.list_files("raw")
        manifest = lake.read_json(manifest_key(DAY))
        again = extract(settings, DAY)

        assert first.rows == generated
        assert listed == sorted(t.key for t in first.tables) == lake.list_files("raw")
        assert {f["key"]: f["rows"] for f in manifest["files"]} == {t.key: t.rows for t in first.tables}
        assert [t.sha256 for t in again.tables] == [t.sha256 for t in first.tables]  # the rerun adds nothing new

        loaded = load(settings, DAY)
        reloaded = load(settings, DAY)

        assert loaded.rows_loaded == sum(generated.values())
        assert (reloaded.rows_loaded, reloaded.files_skipped) == (0, len(SOURCE_TABLES))
        raw = {name.lower(): rows for name, rows in layer_counts(settings)["RAW"].items()}
        assert {table: raw[table] for table in SOURCE_TABLES} == generated
    finally:
        source.down(settings)
