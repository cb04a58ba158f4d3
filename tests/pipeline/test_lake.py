"""The lake interface: atomic publishing, listings that never show temporary files, quarantine, manifests.

The same checks run on a local directory and on S3 (moto's real S3 server process on 127.0.0.1).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import boto3
import pyarrow as pa
import pyarrow.fs as pafs
import pytest

from pipeline.errors import ShopstreamError
from pipeline.lake import Lake
from pipeline.settings import LakeSettings
from tests.helpers.network import moto_s3_server

TABLE = pa.table(
    {
        "id": pa.array([2, 1], pa.int32()),
        "price": pa.array([Decimal("1.10"), Decimal("0.01")], pa.decimal128(10, 2)),
        "metadata": pa.array(['{"a": 1}', '{"é": [1, 2]}']),
    }
)


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_s3_server() as url:
        yield url


@pytest.fixture(params=["local", "s3"])
def lake(request: pytest.FixtureRequest, tmp_path) -> Lake:
    if request.param == "local":
        return Lake.from_settings(LakeSettings(uri=str(tmp_path / "lake")))
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = f"lake-{request.node.name.split('[')[0].replace('_', '-')[:40]}"
    boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    ).create_bucket(Bucket=bucket)
    settings = LakeSettings(
        uri=f"s3://{bucket}/prefix",
        region="us-east-1",
        endpoint_override=endpoint,
        access_key_id="k",
        secret_access_key="s",
    )
    return Lake.from_settings(settings)


def test_parquet_round_trip_keeps_types_and_lists_only_published_files(lake: Lake) -> None:
    written = lake.write_parquet("raw/t/dt=2026-11-24/part-0000.parquet", TABLE)
    # Leftovers of a crashed writer and hidden files must never be listed.
    lake.write_bytes("raw/t/dt=2026-11-24/.part-0001.parquet.tmp-123", b"half")
    lake.write_bytes("raw/_manifests/dt=2026-11-24/manifest.json", b"{}")
    lake.write_bytes("raw/t/_tmp/abc/part-0002.parquet", b"half")

    assert lake.list_files("raw") == ["raw/t/dt=2026-11-24/part-0000.parquet"]
    assert lake.list_files("raw/t") == ["raw/t/dt=2026-11-24/part-0000.parquet"]
    assert lake.list_files("raw/other") == []
    assert written.rows == 2
    back = lake.read_table(written.key)
    assert back.schema.equals(TABLE.schema)
    assert back.to_pylist() == TABLE.to_pylist()


def test_write_leaves_no_temporary_file_behind(lake: Lake) -> None:
    lake.write_parquet("raw/t/dt=2026-11-24/part-0000.parquet", TABLE)
    lake.write_json("raw/_manifests/dt=2026-11-24/manifest.json", {"files": []})
    every_key = lake.list_files("", suffix="")  # visible keys
    assert every_key == ["raw/t/dt=2026-11-24/part-0000.parquet"]
    selector = pafs.FileSelector(lake.root, recursive=True, allow_not_found=True)
    files = [i.path for i in lake.filesystem.get_file_info(selector) if i.type == pafs.FileType.File]
    assert not [path for path in files if "tmp" in path.rsplit("/", 1)[-1] or "/_tmp/" in path]


def test_identical_tables_give_identical_checksums(lake: Lake) -> None:
    first = lake.write_parquet("a/part-0000.parquet", TABLE)
    second = lake.write_parquet("a/part-0000.parquet", TABLE)
    other = lake.write_parquet("b/part-0000.parquet", TABLE.slice(0, 1))
    assert first.sha256 == second.sha256
    assert first.sha256 != other.sha256


def test_quarantine_keeps_the_relative_path(lake: Lake) -> None:
    lake.write_bytes("raw/t/dt=2026-11-24/bad.parquet", b"not parquet")
    moved = lake.quarantine("raw/t/dt=2026-11-24/bad.parquet")
    assert moved == "quarantine/raw/t/dt=2026-11-24/bad.parquet"
    assert lake.list_files("raw") == []
    assert lake.read_bytes(moved) == b"not parquet"


def test_manifest_round_trip(lake: Lake) -> None:
    assert lake.read_json("raw/_manifests/dt=2026-11-24/manifest.json") is None
    lake.write_json("raw/_manifests/dt=2026-11-24/manifest.json", {"rows": 3, "when": "2026-11-24"})
    assert lake.read_json("raw/_manifests/dt=2026-11-24/manifest.json") == {"rows": 3, "when": "2026-11-24"}


def test_missing_file_is_a_one_line_error(lake: Lake) -> None:
    with pytest.raises(ShopstreamError, match="not found"):
        lake.read_bytes("raw/nothing.parquet")
