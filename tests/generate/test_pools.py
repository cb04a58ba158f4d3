"""The Faker-made pools of a seed, kept in the user's cache: a later process generates without Faker, the same rows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.generate import pools
from pipeline.generate.tables import generate_tables
from pipeline.settings import ENV_CACHE_HOME

SEED = 1234
# A new process: generates the tables of SEED and says whether it imported Faker, and what it generated.
GENERATE = f"""
import json, sys
from pipeline.generate.tables import generate_tables
tables = {{name: table.to_pylist() for name, table in generate_tables(0.02, {SEED})}}
print(json.dumps({{"faker": "faker" in sys.modules, "users": tables["users"], "products": tables["products"]}},
                 default=str))
"""


def generate_in_a_new_process(cache: Path) -> dict:
    env = {**os.environ, ENV_CACHE_HOME: str(cache)}
    finished = subprocess.run([sys.executable, "-c", GENERATE], env=env, capture_output=True, text=True, check=True)
    return json.loads(finished.stdout)


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Iterator[Path]:
    """An empty user cache, and no pools of this process's own before or after the test."""
    monkeypatch.setenv(ENV_CACHE_HOME, str(tmp_path))
    pools.build_pools.cache_clear()
    yield tmp_path
    pools.build_pools.cache_clear()


def cache_entries(cache: Path) -> list[Path]:
    return sorted((cache / "shopstream" / "demo-pools").glob("*.json"))


def test_a_later_process_reads_the_pools_of_its_seed_without_faker_and_generates_the_same_rows(cache) -> None:
    # This process makes the pools with Faker, and caches them.
    made = {name: table.to_pylist() for name, table in generate_tables(0.02, SEED) if name in ("users", "products")}
    [entry] = cache_entries(cache)
    assert entry.stat().st_mode & 0o777 == 0o600 and entry.parent.stat().st_mode & 0o777 == 0o700

    later = generate_in_a_new_process(cache)

    assert not later["faker"]
    assert later["users"] == json.loads(json.dumps(made["users"], default=str))
    assert later["products"] == json.loads(json.dumps(made["products"], default=str))
    names = json.loads(entry.read_text())
    assert {user["first_name"] for user in later["users"]} <= set(names["first_names"])


@pytest.mark.parametrize(
    "damage",
    [
        b"torn by a cra",
        json.dumps({"first_names": ["Ann"], "last_names": [], "brands": [], "descriptions": []}).encode(),
        json.dumps(["not", "the", "lists"]).encode(),
    ],
    ids=["torn file", "lists of other sizes", "not an object"],
)
def test_a_damaged_entry_is_made_again_by_faker_and_replaced(cache, damage: bytes) -> None:
    made = pools.build_pools(SEED)
    [entry] = cache_entries(cache)
    good = entry.read_bytes()
    entry.write_bytes(damage)
    pools.build_pools.cache_clear()  # the next call reads the damaged entry, not this process's pools

    again = pools.build_pools(SEED)

    assert again == made and entry.read_bytes() == good


def test_each_seed_has_pools_of_its_own(cache) -> None:
    users = {seed: dict(generate_tables(0.02, seed))["users"] for seed in (SEED, SEED + 1)}
    assert len(cache_entries(cache)) == 2
    assert users[SEED]["first_name"].to_pylist() != users[SEED + 1]["first_name"].to_pylist()
