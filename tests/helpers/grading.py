"""Local student stacks and their answer keys for the grading tests, built once per session.

Students' stacks are built with the pipeline's own steps under the session's SHOPSTREAM_HOME, with the default
seed (the stack's data variant, from its name and the cohort's salt): embedded PostgreSQL → generate → extract →
load → dbt models. Their keys come from `ensure_key`, which runs the same road in a scratch folder. SF 0.05 keeps
each dbt build short; the dbt data tests are graded where a test asks for them.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline import source
from pipeline.extract import extract
from pipeline.grade.key import KEY_BUILD_EXCLUDE, Key, ensure_key
from pipeline.grade.rubric import Rubric, load_rubric
from pipeline.load import load
from pipeline.run import generate_if_empty
from pipeline.settings import ENV_COURSE_SALT, DuckDBWarehouse, LakeSettings, Settings, local_settings
from pipeline.source.server import free_port
from pipeline.transform import build
from pipeline.variant import variant_seed

SALT = "cohort-salt-for-tests"
SCALE = 0.05
EXTRACT_DATE = "2026-11-24"
SKIPPED = ("postgres", "dbt", "logs")  # the stack folder's server data and logs: not part of what is graded


@dataclass(frozen=True)
class Cohort:
    keys_dir: Path
    root: Path


@pytest.fixture(scope="session")
def cohort(shopstream_home: Path) -> Iterator[Cohort]:
    """The cohort's salt in the environment for the session, and its key cache."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv(ENV_COURSE_SALT, SALT)
        yield Cohort(keys_dir=shopstream_home / "grading" / "test" / "keys", root=shopstream_home / "grading")


def build_student_stack(stack: str, *, upto: str = "transform") -> Settings:
    """A student's local stack as `shopstream run` leaves it (`upto`: extract, load or transform).

    Each student's server gets a port of its own: the session's "test" stack may still hold the session's port.
    """
    settings = local_settings(stack)
    settings.source.port = free_port()
    dsn = source.up(settings)
    try:
        generate_if_empty(settings, dsn, SCALE, None)  # None: the stack's variant, as `shopstream run` does
        extract(settings, EXTRACT_DATE)
    finally:
        source.down(settings)
    if upto in ("load", "transform"):
        load(settings, EXTRACT_DATE)
    if upto == "transform":
        build(settings, exclude=KEY_BUILD_EXCLUDE)
    return settings


def key_of(cohort: Cohort, stack: str) -> Key:
    return ensure_key(stack, variant_seed(stack, SALT), SCALE, cohort.keys_dir)


@pytest.fixture(scope="session")
def alice(cohort: Cohort) -> Settings:
    return build_student_stack("alice")


@pytest.fixture(scope="session")
def bob(cohort: Cohort) -> Settings:
    return build_student_stack("bob")


@pytest.fixture(scope="session")
def alice_key(cohort: Cohort, alice: Settings) -> Key:
    return key_of(cohort, "alice")


@pytest.fixture(scope="session")
def bob_key(cohort: Cohort, bob: Settings) -> Key:
    return key_of(cohort, "bob")


def rubric_without(*ids: str) -> Rubric:
    """The default rubric with some checks disabled (the way an instructor does it, minus the YAML file)."""
    rubric = load_rubric()
    return rubric.model_copy(
        update={"checks": [e.model_copy(update={"enabled": e.enabled and e.id not in ids}) for e in rubric.checks]}
    )


def copy_stack(settings: Settings, into: Path) -> Settings:
    """The same stack (same name, same key) in another folder, to be mutated without touching the original."""
    home = into / settings.stack

    def server_files(folder: str, names: list[str]) -> list[str]:
        return [name for name in names if Path(folder) == settings.home and name in SKIPPED]

    shutil.copytree(settings.home, home, ignore=server_files)
    assert isinstance(settings.warehouse, DuckDBWarehouse)
    return settings.model_copy(
        update={
            "home": home,
            "lake": LakeSettings(uri=str(home / "lake")),
            "warehouse": DuckDBWarehouse(path=home / settings.warehouse.path.name),
        }
    )


def tree_digest(folder: Path) -> dict[str, str]:
    """sha256 and mtime of every file under `folder` (what grading must leave unchanged)."""
    return {
        str(path.relative_to(folder)): f"{hashlib.sha256(path.read_bytes()).hexdigest()} {path.stat().st_mtime_ns}"
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "postgres" not in path.relative_to(folder).parts
    }
