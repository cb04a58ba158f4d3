"""Erase a person from the lake: rewrite every file that holds them, quarantine included.

A users file keeps the person's row (orders point to it) with the identifying columns replaced as in
`erasure.USER_ERASURE`; any other file with an `email` column (the CRM) loses the person's rows. Each rewrite is an
atomic publish (`Lake.write_bytes`), then the manifests that list the file get its new row count, size and sha256.
On S3 the older versions of a rewritten object still hold the person, so they are deleted too. A file that cannot be
read as Parquet (quarantined garbage) and contains the person's email is deleted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.lake import TMP_PREFIX, Lake, parquet_bytes, sha256_hex
from pipeline.lake_contract import (
    QUARANTINE_PREFIX,
    ManifestFile,
    partition_date,
    read_manifest,
    read_table_entry,
    write_manifest,
    write_table_entry,
)
from pipeline.naming import LAKE_PREFIXES
from pipeline.privacy.erasure import DELETED_BY_EMAIL, ERASED_EMAIL_DOMAIN, USER_ERASURE
from pipeline.privacy.salt import normalise_email
from pipeline.settings import LakeSettings

# Prefixes that can hold a person's email or name (events and orders carry the pseudonymous user id only).
PERSONAL_PREFIXES = (LAKE_PREFIXES["users"], LAKE_PREFIXES["crm_contacts"], QUARANTINE_PREFIX)


@dataclass(frozen=True)
class Subject:
    """Who is erased: their user ids and every email they are known by (normalised), and the users placeholder."""

    user_ids: frozenset[int]
    emails: frozenset[str]
    placeholder_email: str


@dataclass
class LakeErasure:
    files_scanned: int = 0
    files_rewritten: int = 0
    files_deleted: int = 0
    rows_anonymised: int = 0
    rows_deleted: int = 0
    object_versions_deleted: int = 0
    rewritten: dict[str, dict] = field(default_factory=dict)  # key → {sha256, rows, bytes}

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if isinstance(v, int)}


def table_of(key: str) -> str | None:
    """The source table a lake key belongs to (also for `quarantine/<original key>`)."""
    original = key.removeprefix(f"{QUARANTINE_PREFIX}/")
    for table, prefix in LAKE_PREFIXES.items():
        if original.startswith(prefix + "/"):
            return table
    return None


def personal_keys(lake: Lake) -> list[str]:
    return sorted({key for prefix in PERSONAL_PREFIXES for key in lake.list_files(prefix, suffix="")})


def emails_of_users(lake: Lake, user_ids: frozenset[int]) -> frozenset[str]:
    """Every email the lake's users files (quarantine included) know these users by: older snapshots may hold an
    address the source has since changed, and the CRM may know the person by it."""
    found: set[str] = set()
    if not user_ids:
        return frozenset()
    ids = pa.array(sorted(user_ids), pa.int64())
    for key in personal_keys(lake):
        if table_of(key) != "users":
            continue
        try:
            table = pq.read_table(pa.BufferReader(lake.read_bytes(key)), columns=["id", "email"])
        except (pa.ArrowException, OSError, KeyError):
            continue
        matched = table.filter(pc.fill_null(pc.is_in(table["id"].cast(pa.int64()), value_set=ids), False))
        found |= {normalise_email(e) for e in matched["email"].to_pylist() if e}
    return frozenset(e for e in found if not e.endswith(f"@{ERASED_EMAIL_DOMAIN}"))


def _normalised(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.utf8_lower(pc.utf8_trim_whitespace(column.cast(pa.string())))


def erase_rows(table: pa.Table, source_table: str | None, subject: Subject) -> tuple[pa.Table, int, int] | None:
    """(the table without the person, rows anonymised, rows deleted), or None when the person is not in it."""
    names = table.column_names
    emails = pa.array(sorted(subject.emails), pa.string())
    by_email = (
        pc.fill_null(pc.is_in(_normalised(table["email"]), value_set=emails), False)
        if "email" in names
        else pa.chunked_array([pa.array([False] * table.num_rows)])
    )
    if source_table == "users":
        by_id = pc.is_in(table["id"].cast(pa.int64()), value_set=pa.array(sorted(subject.user_ids), pa.int64()))
        matched = pc.or_(by_email, pc.fill_null(by_id, False)) if "id" in names else by_email
        count = pc.sum(matched.cast(pa.int64())).as_py() or 0
        if not count:
            return None
        columns = []
        for name in names:
            column = table[name]
            if name in USER_ERASURE:
                value = subject.placeholder_email if USER_ERASURE[name] == "{email}" else None
                column = pc.if_else(matched, pa.scalar(value, column.type), column)
            columns.append(column)
        return pa.Table.from_arrays(columns, schema=table.schema), count, 0
    if source_table in DELETED_BY_EMAIL or "email" in names:
        count = pc.sum(by_email.cast(pa.int64())).as_py() or 0
        if not count:
            return None
        return table.filter(pc.invert(by_email)), 0, count
    return None


def erase_from_lake(
    lake: Lake, lake_settings: LakeSettings, subject: Subject, before_write: Callable[[str], None]
) -> LakeErasure:
    """Rewrite or delete every file holding the person; `before_write(key)` journals the key first."""
    result = LakeErasure()
    for key in personal_keys(lake):
        result.files_scanned += 1
        data = lake.read_bytes(key)
        try:
            table = pq.read_table(pa.BufferReader(data))
        except (pa.ArrowException, OSError):
            lowered = data.lower()
            if any(email.encode() in lowered for email in subject.emails):
                before_write(key)
                _delete(lake, key)
                result.files_deleted += 1
                result.object_versions_deleted += purge_old_versions(lake, lake_settings, key, keep_latest=False)
            continue
        erased = erase_rows(table, table_of(key), subject)
        if erased is None:
            continue
        new_table, anonymised, deleted = erased
        before_write(key)
        written = lake.write_bytes(key, parquet_bytes(new_table))
        result.files_rewritten += 1
        result.rows_anonymised += anonymised
        result.rows_deleted += deleted
        result.rewritten[key] = {"sha256": written.sha256, "rows": new_table.num_rows, "bytes": written.size}
        result.object_versions_deleted += purge_old_versions(lake, lake_settings, key, keep_latest=True)
    return result


def purge_temporary_versions(lake: Lake, lake_settings: LakeSettings) -> int:
    """Every non-current version under `_tmp/` (on a versioned bucket each atomic publish leaves one)."""
    return purge_old_versions(lake, lake_settings, f"{TMP_PREFIX}/", keep_latest=True)


def refresh_manifests(lake: Lake, keys: list[str]) -> int:
    """Give the manifests that list `keys` their files' current rows, bytes and sha256; returns entries updated."""
    updated = 0
    for key in keys:
        if key.startswith(f"{QUARANTINE_PREFIX}/") or not lake.exists(key) or (table := table_of(key)) is None:
            continue
        extract_date = partition_date(key)
        if extract_date is None:
            continue
        data = lake.read_bytes(key)
        facts = {"rows": pq.read_metadata(pa.BufferReader(data)).num_rows, "bytes": len(data)}
        facts_of_key = {key: {**facts, "sha256": sha256_hex(data)}}
        if (manifest := read_manifest(lake, extract_date)) is not None:
            files = tuple(_refreshed(entry, facts_of_key) for entry in manifest.files)
            if files != manifest.files:
                write_manifest(lake, replace(manifest, files=files))
                updated += 1
        entry = read_table_entry(lake, extract_date, table)
        if entry is not None and (current := _refreshed(entry, facts_of_key)) != entry:
            write_table_entry(lake, extract_date, current)
            updated += 1
    return updated


def _refreshed(entry: ManifestFile, facts_of_key: dict[str, dict]) -> ManifestFile:
    """The entry with its file's current rows, bytes and sha256, when it is the file that was rewritten."""
    facts = facts_of_key.get(entry.key)
    return replace(entry, **facts) if facts else entry


def _delete(lake: Lake, key: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        lake.filesystem.delete_file(lake.path(key))


def purge_old_versions(lake: Lake, lake_settings: LakeSettings, key: str, *, keep_latest: bool) -> int:
    """Delete the non-current versions (and delete markers) of an S3 object, or of every object under a prefix
    ending in `/`; a directory lake has none. An atomic publish on a versioned bucket leaves the published bytes as a
    non-current version of its `_tmp/` key (copy, then delete): those are purged too."""
    if not lake_settings.is_s3:
        return 0
    client = _s3_client(lake_settings)
    bucket, _, object_key = lake.path(key).partition("/")
    deleted = 0
    paginator = client.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket, Prefix=object_key):
        for version in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            exact = version["Key"] == object_key or object_key.endswith("/")  # a key, or everything under a prefix
            if not exact or (keep_latest and version.get("IsLatest") and "Size" in version):
                continue
            client.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
            deleted += 1
    return deleted


def _s3_client(lake_settings: LakeSettings):  # boto3 clients are untyped
    import boto3

    options: dict = {"region_name": lake_settings.region}
    if lake_settings.endpoint_override:
        endpoint = lake_settings.endpoint_override
        options["endpoint_url"] = endpoint if urlparse(endpoint).scheme else f"https://{endpoint}"
    if lake_settings.access_key_id and lake_settings.secret_access_key:
        options["aws_access_key_id"] = lake_settings.access_key_id
        options["aws_secret_access_key"] = lake_settings.secret_access_key.get_secret_value()
    return boto3.client("s3", **options)


def residual_lake_copies(lake: Lake, subject: Subject) -> list[str]:
    """Keys (anywhere in the lake) whose decoded contents still hold one of the person's emails."""
    found = []
    needles = [e.encode() for e in subject.emails]
    for key in lake.list_files("", suffix=""):
        data = lake.read_bytes(key)
        try:
            table = pq.read_table(pa.BufferReader(data))
        except (pa.ArrowException, OSError):
            if any(n in data.lower() for n in needles):
                found.append(key)
            continue
        for name in table.column_names:
            if pa.types.is_string(table.schema.field(name).type) or pa.types.is_large_string(
                table.schema.field(name).type
            ):
                lowered = pc.utf8_lower(table[name])
                if any(pc.any(pc.match_substring(lowered, e)).as_py() for e in subject.emails):
                    found.append(key)
                    break
    # quarantine/ is listed too: list_files("") walks the whole lake except hidden and temporary keys.
    return found
