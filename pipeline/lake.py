"""The lake: one small interface over `pyarrow.fs` for a local directory or `s3://bucket[/prefix]`.

Keys are POSIX paths relative to the lake root (`raw/postgres/orders/dt=2026-11-24/part-0000.parquet`).
Every write is atomic: bytes go to a hidden temporary key under `_tmp/`, then move to the final key, so a
reader never sees a half-written file. Listings skip temporary, hidden (`.` or `_` prefixed) and manifest keys.
"""

from __future__ import annotations

import errno
import hashlib
import json
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from pipeline.errors import ResourceError, ShopstreamError, first_line
from pipeline.lake_contract import quarantine_key
from pipeline.settings import LakeSettings

TMP_PREFIX = "_tmp"
# A write publishes within seconds; anything older under _tmp/ was left by a write that was killed or failed.
STALE_TMP_S = 15 * 60


@dataclass(frozen=True)
class WrittenFile:
    """What a write published: the key, its size, its sha256 (hex) and, for Parquet, its row count."""

    key: str
    size: int
    sha256: str
    rows: int | None = None


def parquet_bytes(table: pa.Table) -> bytes:
    """Serialise a table to Parquet. Identical tables give identical bytes (no timestamps in the file)."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", row_group_size=1_000_000)
    return sink.getvalue().to_pybytes()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _is_visible(relative_key: str) -> bool:
    return not any(part.startswith((".", "_")) for part in PurePosixPath(relative_key).parts)


class Lake:
    """A lake rooted at a local directory or an S3 bucket/prefix; the same calls work on both."""

    def __init__(self, filesystem: pafs.FileSystem, root: str, uri: str) -> None:
        self.filesystem = filesystem
        self.root = root.rstrip("/")
        self.uri = uri.rstrip("/")

    @classmethod
    def from_settings(cls, lake: LakeSettings) -> Lake:
        if lake.is_s3:
            parsed = urlparse(lake.uri)
            if not parsed.netloc:
                raise ShopstreamError(f"lake URI {lake.uri!r} names no bucket: use s3://bucket[/prefix]")
            options: dict[str, Any] = {"region": lake.region}
            if lake.endpoint_override:
                endpoint = urlparse(lake.endpoint_override)
                options["endpoint_override"] = endpoint.netloc or lake.endpoint_override
                options["scheme"] = endpoint.scheme or "https"
            if lake.access_key_id and lake.secret_access_key:
                options["access_key"] = lake.access_key_id
                options["secret_key"] = lake.secret_access_key.get_secret_value()
            root = f"{parsed.netloc}/{parsed.path.strip('/')}".rstrip("/")
            return cls(pafs.S3FileSystem(**options), root, lake.uri)
        local = pafs.LocalFileSystem()
        path = PurePosixPath(lake.uri.removeprefix("file://"))
        return cls(local, str(path), str(path))

    # -- paths ---------------------------------------------------------------------------------------------
    def path(self, key: str) -> str:
        """Filesystem path of a key (what pyarrow.fs expects)."""
        return f"{self.root}/{key.lstrip('/')}"

    def location(self, key: str) -> str:
        """URI of a key for people and error messages."""
        return f"{self.uri}/{key.lstrip('/')}"

    # -- writing -------------------------------------------------------------------------------------------
    def write_bytes(self, key: str, data: bytes) -> WrittenFile:
        """Publish bytes at `key` atomically: write a hidden temporary key, then move it into place."""
        tmp_key = f"{TMP_PREFIX}/{uuid.uuid4().hex}/{PurePosixPath(key).name}"
        with self._errors(f"writing {self.location(key)}"):
            self._ensure_parent(tmp_key)
            try:
                with self.filesystem.open_output_stream(self.path(tmp_key)) as out:
                    out.write(data)
            except BaseException:
                with suppress(OSError):  # e.g. disk full: do not keep the partial bytes
                    self.filesystem.delete_file(self.path(tmp_key))
                self._remove_empty_tmp(tmp_key)
                raise
            self._ensure_parent(key)
            self.filesystem.move(self.path(tmp_key), self.path(key))
            self._remove_empty_tmp(tmp_key)
        return WrittenFile(key=key, size=len(data), sha256=sha256_hex(data))

    def write_parquet(self, key: str, table: pa.Table) -> WrittenFile:
        written = self.write_bytes(key, parquet_bytes(table))
        return WrittenFile(key=written.key, size=written.size, sha256=written.sha256, rows=table.num_rows)

    def write_json(self, key: str, document: dict[str, Any]) -> WrittenFile:
        text = json.dumps(document, indent=2, sort_keys=True, default=str) + "\n"
        return self.write_bytes(key, text.encode())

    # -- reading -------------------------------------------------------------------------------------------
    def exists(self, key: str) -> bool:
        with self._errors(f"reading {self.location(key)}"):
            return self.filesystem.get_file_info(self.path(key)).type == pafs.FileType.File

    def read_bytes(self, key: str) -> bytes:
        with self._errors(f"reading {self.location(key)}"), self.filesystem.open_input_stream(self.path(key)) as f:
            return f.read()

    def read_table(self, key: str) -> pa.Table:
        """Read a Parquet file. Raises `pyarrow.ArrowInvalid` when the bytes are not Parquet."""
        return pq.read_table(pa.BufferReader(self.read_bytes(key)))

    def read_json(self, key: str) -> dict[str, Any] | None:
        """A JSON document, or None when the key does not exist."""
        if not self.exists(key):
            return None
        return json.loads(self.read_bytes(key))

    def list_files(self, prefix: str = "", suffix: str = ".parquet") -> list[str]:
        """Published keys under `prefix`, sorted; never temporary or hidden ones (`_tmp/`, `_manifests/`, `.x`)."""
        base = self.path(prefix.strip("/")) if prefix.strip("/") else self.root
        selector = pafs.FileSelector(base, recursive=True, allow_not_found=True)
        with self._errors(f"listing {self.location(prefix)}"):
            infos = self.filesystem.get_file_info(selector)
        keys = []
        for info in infos:
            if info.type != pafs.FileType.File or not info.path.endswith(suffix):
                continue
            relative = info.path[len(base) :].lstrip("/")
            if _is_visible(relative):
                keys.append(f"{prefix.strip('/')}/{relative}" if prefix.strip("/") else relative)
        return sorted(keys)

    # -- housekeeping --------------------------------------------------------------------------------------
    def quarantine(self, key: str) -> str:
        """Move a file to `quarantine/<its key>` so it stops being loaded but nothing is lost."""
        target = quarantine_key(key)
        copy = 1
        while self.exists(target):  # the same key quarantined before: keep both copies
            target = f"{quarantine_key(key)}.{copy}"
            copy += 1
        with self._errors(f"quarantining {self.location(key)}"):
            self._ensure_parent(target)
            self.filesystem.move(self.path(key), self.path(target))
        return target

    def remove_stale_temporaries(self, older_than_s: float = STALE_TMP_S) -> int:
        """Delete what killed or disk-full writes left under `_tmp/`; files of writes still running are younger.

        Returns how many files were removed.
        """
        selector = pafs.FileSelector(self.path(TMP_PREFIX), recursive=True, allow_not_found=True)
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than_s)
        removed = 0
        with self._errors(f"cleaning {self.location(TMP_PREFIX)}"):
            infos = self.filesystem.get_file_info(selector)
            for info in infos:
                if info.type == pafs.FileType.File and info.mtime is not None and info.mtime < cutoff:
                    with suppress(FileNotFoundError):  # another cleaner got there first
                        self.filesystem.delete_file(info.path)
                    removed += 1
            if isinstance(self.filesystem, pafs.LocalFileSystem):
                for info in sorted(infos, key=lambda i: i.path.count("/"), reverse=True):
                    if info.type == pafs.FileType.Directory:
                        with suppress(OSError):  # not empty: a write in progress, or not stale yet
                            Path(info.path).rmdir()
        return removed

    def _ensure_parent(self, key: str) -> None:
        # S3 has no directories; creating them there costs requests and marker objects for nothing.
        if isinstance(self.filesystem, pafs.LocalFileSystem):
            self.filesystem.create_dir(str(PurePosixPath(self.path(key)).parent), recursive=True)

    def _remove_empty_tmp(self, tmp_key: str) -> None:
        if isinstance(self.filesystem, pafs.LocalFileSystem):
            with suppress(OSError):  # best effort: a leftover empty hidden folder is harmless
                self.filesystem.delete_dir(str(PurePosixPath(self.path(tmp_key)).parent))

    def _errors(self, action: str) -> AbstractContextManager[None]:
        return storage_errors(action)


@contextmanager
def storage_errors(action: str) -> Iterator[None]:
    """Turn storage failures into one actionable line (disk full, missing key, access denied, no bucket)."""
    try:
        yield
    except ShopstreamError:
        raise
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise ResourceError(f"disk full while {action}: free some space and rerun") from exc
        if isinstance(exc, FileNotFoundError):
            raise ShopstreamError(f"not found while {action}") from exc
        raise ShopstreamError(f"lake error while {action}: {first_line(exc)}") from exc
