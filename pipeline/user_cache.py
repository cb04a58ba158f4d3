"""Folders of the user's cache (`$XDG_CACHE_HOME/shopstream/<name>`): what any process can make again, kept so the
next one need not.

An entry is a file named by a key of everything its content depends on, so a stale entry is never found. Entries
are written atomically (several processes may write the same key at once) and readable by the user only; the
least recently used are forgotten beyond a count. A cache only saves time: an entry that cannot be read or written
is no error, and deleting the folder is always safe.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipeline.settings import cache_home


@dataclass(frozen=True)
class CacheFolder:
    name: str  # the folder under the user's cache
    suffix: str  # of every entry's file name: ".msgpack"
    kept: int  # entries kept, the least recently used forgotten first

    @property
    def path(self) -> Path:
        return cache_home() / self.name

    def read(self, key: str) -> bytes | None:
        """The entry's content (and the entry marked as just used), or None when there is none."""
        entry = self.path / f"{key}{self.suffix}"
        try:
            data = entry.read_bytes()
        except OSError:
            return None
        with contextlib.suppress(OSError):
            os.utime(entry)  # recently used: kept longest
        return data

    def write(self, key: str, data: bytes) -> None:
        """Keep `data` under `key`; a folder that cannot be written means no cache, never an error."""
        temporary: str | None = None
        try:
            self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(prefix=f".{key}.", dir=self.path)  # 0600
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temporary, self.path / f"{key}{self.suffix}")
            temporary = None
            self._forget_the_oldest()
        except OSError:
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)

    def _forget_the_oldest(self) -> None:
        entries = sorted(self.path.glob(f"*{self.suffix}"), key=lambda path: path.stat().st_mtime, reverse=True)
        for entry in entries[self.kept :]:
            entry.unlink(missing_ok=True)
