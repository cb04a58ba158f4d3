"""The lake contract: where each file lives and what a manifest says, for every writer and reader of the lake.

    raw/postgres/orders/dt=2026-11-24/part-0000.parquet      one table's snapshot of one extraction date
    raw/_manifests/dt=2026-11-24/manifest.json               the date's run manifest: the extraction finished
    raw/_manifests/dt=2026-11-24/tables/orders.json          one table's entry, while a run goes table by table
    raw/stream/<table>/dt=2026-11-24/batch-00000001.parquet  a stream batch's file (`pipeline.stream.tables`)
    quarantine/<original key>                                files a loader refused

Extract writes these paths and manifests; both loaders, the stream, erasure and grading read them through this
module. The table prefixes are physical names and live in `pipeline.naming.LAKE_PREFIXES`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from pipeline.errors import ShopstreamError
from pipeline.naming import LAKE_PREFIXES, SOURCE_TABLES

if TYPE_CHECKING:
    from pipeline.lake import Lake

RAW_PREFIX = "raw"  # the Snowflake stage points here
MANIFEST_PREFIX = f"{RAW_PREFIX}/_manifests"
QUARANTINE_PREFIX = "quarantine"
PART_NAME = "part-0000.parquet"
MANIFEST_NAME = "manifest.json"
_PARTITION = re.compile(r"(?:^|/)dt=(\d{4}-\d{2}-\d{2})(?:/|$)")
_LAKE_FILE = re.compile(r"\A(?P<prefix>[a-z_/]+)/dt=\d{4}-\d{2}-\d{2}/[A-Za-z0-9_-][A-Za-z0-9._-]*\.parquet\Z")


# -- dates and tables --------------------------------------------------------------------------------------------
def validate_date(value: str | None) -> str:
    """An extraction date as YYYY-MM-DD (default: today, UTC); anything else is a one-line error."""
    if value is None:
        return datetime.now(UTC).date().isoformat()
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.isoformat() != value:
        raise ShopstreamError(f"invalid date {value!r}: use YYYY-MM-DD, e.g. 2026-11-24")
    return value


def validate_tables(tables: Sequence[str]) -> tuple[str, ...]:
    """Known source table names, in the order given, without repeats; anything else is a one-line error."""
    unknown = [table for table in tables if table not in SOURCE_TABLES]
    if unknown or not tables:
        raise ShopstreamError(
            f"unknown source table(s) {', '.join(unknown) or '(none given)'}: choose from {', '.join(SOURCE_TABLES)}"
        )
    return tuple(dict.fromkeys(tables))


# -- paths -------------------------------------------------------------------------------------------------------
def partition_name(extract_date: str) -> str:
    """Name of the lake partition holding one date (Hive style, readable by every engine)."""
    return f"dt={extract_date}"


def partition_date(key: str) -> str | None:
    """The date of a key inside a `dt=YYYY-MM-DD` partition, else None."""
    match = _PARTITION.search(key)
    return match.group(1) if match else None


def partition_prefix(table: str, extract_date: str) -> str:
    """`raw/postgres/orders/dt=2026-11-24`: the folder of one table's files for one date."""
    return f"{LAKE_PREFIXES[table]}/{partition_name(extract_date)}"


def part_key(table: str, extract_date: str) -> str:
    """The key of the one file a full snapshot of `table` writes for `extract_date`."""
    return f"{partition_prefix(table, extract_date)}/{PART_NAME}"


def stage_path(key: str) -> str:
    """A file's folder relative to `raw/`, where the Snowflake stage points (`postgres/orders/dt=…`)."""
    return str(PurePosixPath(key).parent.relative_to(RAW_PREFIX))


def manifest_key(extract_date: str) -> str:
    return f"{MANIFEST_PREFIX}/{partition_name(extract_date)}/{MANIFEST_NAME}"


def table_manifest_key(extract_date: str, table: str) -> str:
    """One table's entry of a run extracted table by table (the run's manifest is published from these)."""
    return f"{MANIFEST_PREFIX}/{partition_name(extract_date)}/tables/{table}.json"


def quarantine_key(key: str) -> str:
    return f"{QUARANTINE_PREFIX}/{key}"


def validate_lake_key(table: str, key: str) -> str:
    """A lake key of `table` in the lake layout (`<prefix>/dt=YYYY-MM-DD/<file>.parquet`), else a one-line error.

    Keys come from manifests in the lake, which anyone with write access to the bucket can edit.
    """
    match = _LAKE_FILE.match(key)
    if match is None or match["prefix"] != LAKE_PREFIXES.get(table):
        raise ShopstreamError(
            f"lake key {key!r} is not a {table} file of the lake layout "
            f"({LAKE_PREFIXES.get(table, '?')}/dt=YYYY-MM-DD/<name>.parquet); check the manifest"
        )
    return key


# -- manifests ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ManifestFile:
    """One published file: its table, key, row count, size, sha256 and Arrow schema (as `schema_as_json` rows)."""

    table: str
    key: str
    rows: int
    bytes: int
    sha256: str
    schema: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "key": self.key,
            "rows": self.rows,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "schema": self.schema,
        }

    @classmethod
    def from_json(cls, document: Any, where: str) -> ManifestFile:
        """Parse one entry; a missing or mistyped field is a one-line error naming `where`."""
        if not isinstance(document, dict):
            raise ShopstreamError(f"{where}: a file entry must be a JSON object")
        problems = [
            f"{name} must be {kind.__name__}"
            for name, kind in (("table", str), ("key", str), ("rows", int), ("bytes", int), ("sha256", str))
            if not isinstance(document.get(name), kind) or isinstance(document.get(name), bool)
        ]
        if problems:
            raise ShopstreamError(f"{where}: {'; '.join(problems)}")
        if document["rows"] < 0 or document["bytes"] < 0:
            raise ShopstreamError(f"{where}: rows and bytes cannot be negative")
        return cls(
            table=document["table"],
            key=document["key"],
            rows=document["rows"],
            bytes=document["bytes"],
            sha256=document["sha256"],
            schema=list(document.get("schema") or []),
        )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Manifest:
    """A finished extraction: its date, when it was written, and its files (one per table for a snapshot)."""

    extract_date: str
    files: tuple[ManifestFile, ...]
    extracted_at: str = field(default_factory=_now)

    @property
    def key(self) -> str:
        return manifest_key(self.extract_date)

    @property
    def rows(self) -> dict[str, int]:
        """Rows per table."""
        rows: dict[str, int] = {}
        for entry in self.files:
            rows[entry.table] = rows.get(entry.table, 0) + entry.rows
        return rows

    def keys_by_table(self) -> dict[str, list[str]]:
        """Lake keys per source table, each checked against the lake layout (a tampered key is refused)."""
        keys: dict[str, list[str]] = {}
        for entry in self.files:
            keys.setdefault(entry.table, []).append(validate_lake_key(entry.table, entry.key))
        return keys

    def to_json(self) -> dict[str, Any]:
        return {
            "extract_date": self.extract_date,
            "extracted_at": self.extracted_at,
            "files": [entry.to_json() for entry in self.files],
        }

    @classmethod
    def from_json(cls, document: Any, where: str = "manifest") -> Manifest:
        """Parse and check a manifest; a malformed one is a one-line error naming `where`."""
        if not isinstance(document, dict) or not isinstance(document.get("files"), list):
            raise ShopstreamError(f"{where} is not a manifest (a JSON object with a list of files)")
        extract_date = document.get("extract_date")
        if not isinstance(extract_date, str) or partition_date(partition_name(extract_date)) != extract_date:
            raise ShopstreamError(f"{where}: extract_date {extract_date!r} is not YYYY-MM-DD")
        files = tuple(
            ManifestFile.from_json(entry, f"{where} file {number}") for number, entry in enumerate(document["files"])
        )
        return cls(extract_date=extract_date, files=files, extracted_at=str(document.get("extracted_at", "")))


def read_manifest(lake: Lake, extract_date: str) -> Manifest | None:
    """The date's manifest, or None when its extraction did not finish."""
    key = manifest_key(extract_date)
    document = lake.read_json(key)
    return None if document is None else Manifest.from_json(document, lake.location(key))


def write_manifest(lake: Lake, manifest: Manifest) -> str:
    """Publish a run's manifest; written last, it marks the extraction finished."""
    lake.write_json(manifest.key, manifest.to_json())
    return manifest.key


def read_table_entry(lake: Lake, extract_date: str, table: str) -> ManifestFile | None:
    key = table_manifest_key(extract_date, table)
    document = lake.read_json(key)
    return None if document is None else ManifestFile.from_json(document, lake.location(key))


def write_table_entry(lake: Lake, extract_date: str, entry: ManifestFile) -> str:
    key = table_manifest_key(extract_date, entry.table)
    lake.write_json(key, entry.to_json())
    return key


def finished_dates(lake: Lake) -> list[str]:
    """Dates whose extraction finished (they have a run manifest), oldest first."""
    keys = lake.list_files(MANIFEST_PREFIX, suffix=f"/{MANIFEST_NAME}")
    return sorted({d for key in keys if (d := partition_date(key)) is not None})


def latest_manifest(lake: Lake) -> Manifest | None:
    """The most recent finished extraction."""
    dates = finished_dates(lake)
    return read_manifest(lake, dates[-1]) if dates else None
