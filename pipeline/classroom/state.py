"""The instructor's files for one cohort, under `classroom/<cohort>/` (git-ignored, private on disk).

    cohort.json                 the cohort's secret salt (data variants), created once, never handed out
    grader/snowflake_key.p8     the grader service user's private key
    logs/<stack>.log            what Pulumi printed for each stack
    handout/<student>/          what each student receives (see handout.py)

Files are 0600 and folders 0700: they hold private keys, stack secrets and students' e-mail addresses.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.errors import ShopstreamError
from pipeline.naming import validate_cohort

DEFAULT_ROOT = Path("classroom")
PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) readable by the owner only."""
    missing = [parent for parent in (path, *path.parents) if not parent.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=PRIVATE_DIR, exist_ok=True)  # parallel students may create a shared parent together
        folder.chmod(PRIVATE_DIR)  # mkdir's mode is filtered by the umask
    return path


def write_private(path: Path, content: str | bytes) -> Path:
    """Write a file readable by the owner only, atomically: a reader sees the old file or the new one."""
    private_dir(path.parent)
    data = content.encode() if isinstance(content, str) else content
    partial = path.with_name(f".{path.name}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    partial.chmod(PRIVATE_FILE)
    partial.replace(path)
    return path


@dataclass(frozen=True)
class CohortFiles:
    root: Path  # classroom/
    cohort: str

    def __post_init__(self) -> None:
        validate_cohort(self.cohort)

    @property
    def folder(self) -> Path:
        return self.root / self.cohort

    @property
    def state_file(self) -> Path:
        return self.folder / "cohort.json"

    @property
    def grader_key(self) -> Path:
        return self.folder / "grader" / "snowflake_key.p8"

    def log_file(self, stack: str) -> Path:
        return self.folder / "logs" / f"{stack}.log"

    @property
    def handouts(self) -> Path:
        return self.folder / "handout"

    def handout(self, folder: str) -> Path:
        return self.handouts / folder

    def salt(self, *, create: bool) -> str | None:
        """The cohort's secret salt: created on first use, then always the same (lose it and every variant changes)."""
        state = self._state()
        if state is not None:
            return state["salt"]
        if not create:
            return None
        salt = secrets.token_hex(32)
        created = datetime.now(UTC).isoformat(timespec="seconds")
        self._write({"cohort": self.cohort, "salt": salt, "created_at": created})
        return salt

    def settings(self) -> dict[str, Any]:
        """The cohort-wide choices the last `up` used, so a rerun without options changes nothing."""
        return dict((self._state() or {}).get("settings", {}))

    def save_settings(self, settings: dict[str, Any]) -> None:
        self.salt(create=True)
        self._write({**(self._state() or {}), "settings": settings})

    def _state(self) -> dict[str, Any] | None:
        if not self.state_file.exists():
            return None
        try:
            state = json.loads(self.state_file.read_text())
            if not isinstance(state["salt"], str):
                raise TypeError("salt is not a string")
            return state
        except (ValueError, KeyError, TypeError) as exc:
            raise ShopstreamError(f"{self.state_file} is damaged ({exc}); restore it from a backup") from None

    def _write(self, state: dict[str, Any]) -> None:
        write_private(self.state_file, json.dumps(state, indent=2) + "\n")
