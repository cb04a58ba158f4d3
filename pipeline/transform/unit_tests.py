"""Run dbt's unit tests when the code they test changed, not on every build.

A unit test feeds fixed rows to one model and compares its output with fixed rows: its verdict depends on the
project's files, the dbt and adapter versions and the engine, never on the stack's data. (dbt's own advice is to run
them in development and CI, and to leave them out of production builds.) So once every unit test passed for a
project digest on an engine, a full build of that same project on that engine leaves them out, on any stack of this
SHOPSTREAM_HOME, and says so. Any change to a model, macro, yml file or version gives a new digest, and the next full
build runs them again. `UnitTests.ALWAYS` (`shopstream transform --unit-tests always`) runs them anyway.

The verdicts live in one small JSON file under SHOPSTREAM_HOME: digest → how many unit tests passed.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from enum import StrEnum
from pathlib import Path

from pipeline.settings import shopstream_home
from pipeline.transform.fingerprint import package_version, project_digest

VERDICTS_FILE = "unit-tests-passed.json"
EXCLUDE_UNIT_TESTS = "resource_type:unit_test"
_KEPT_VERDICTS = 32  # digests remembered (branches switched back and forth), the oldest forgotten first
_ENGINE_PACKAGES = {"local": ("dbt-duckdb", "duckdb"), "snowflake": ("dbt-snowflake",)}


class UnitTests(StrEnum):
    AUTO = "auto"  # when the project changed since they last passed on this engine
    ALWAYS = "always"


def digest(project_dir: Path, target: str, build_vars: dict) -> str:
    """What a unit test's verdict depends on: the project's files, the vars, dbt, the adapter and the engine."""
    versions = {name: package_version(name) for name in ("dbt-core", *_ENGINE_PACKAGES.get(target, ()))}
    context = json.dumps({"target": target, "vars": build_vars, "versions": versions}, sort_keys=True)
    return hashlib.sha256(context.encode() + project_digest(project_dir).encode()).hexdigest()


def passed_before(key: str) -> int | None:
    """How many unit tests passed for this digest (None: never, or not known)."""
    count = _verdicts().get(key)
    return count if isinstance(count, int) else None


def record_passed(key: str, count: int) -> None:
    """Remember that `count` unit tests passed for this digest. Written atomically: builds of several stacks may
    finish at the same time, and a torn file would only cost a rerun, never a wrong skip."""
    verdicts = {name: value for name, value in _verdicts().items() if name != key}
    verdicts[key] = count
    kept = dict(list(verdicts.items())[-_KEPT_VERDICTS:])
    path = _file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{VERDICTS_FILE}.", dir=path.parent)
    with os.fdopen(fd, "w") as handle:
        json.dump(kept, handle)
    os.replace(temporary, path)


def _verdicts() -> dict[str, object]:
    try:
        verdicts = json.loads(_file().read_text())
    except (OSError, ValueError):
        return {}
    return verdicts if isinstance(verdicts, dict) else {}


def _file() -> Path:
    return shopstream_home() / VERDICTS_FILE
