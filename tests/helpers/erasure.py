"""A local stack of its own for the erasure tests (they change source rows, so never the session's loaded stack).

Its source is a scratch database on the session's embedded PostgreSQL (by DSN); its lake and DuckDB warehouse live
in the stack's folder. Two extractions (two dates) give every person two copies in the lake; one quarantined copy
of a users file and one unreadable quarantined file quoting an email are added, as a loader would leave them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from pipeline.extract import extract
from pipeline.generate import generate
from pipeline.lake import Lake
from pipeline.load import load
from pipeline.settings import ENV_PG_DSN, Settings, resolve_settings
from pipeline.transform import build
from tests.helpers.source import create_source_database, drop_source_database

DATES = ("2026-11-23", "2026-11-24")
SHOPSTREAM = str(Path(sys.executable).with_name("shopstream"))


@dataclass(frozen=True)
class Person:
    user_id: int
    email: str
    first_name: str
    last_name: str


@dataclass(frozen=True)
class ErasureStack:
    settings: Settings
    dsn: str
    env: dict[str, str]

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [SHOPSTREAM, *args, "--stack", self.settings.stack], env=self.env, capture_output=True, text=True
        )

    def unique_people(self, count: int) -> list[Person]:
        """Users who are also CRM contacts and whose first+last name pair nobody else has (so a name is a person)."""
        with psycopg.connect(self.dsn) as conn:
            rows = conn.execute(
                """
                SELECT u.id, u.email, u.first_name, u.last_name FROM users u
                JOIN crm_contacts c ON lower(c.email) = lower(u.email)
                WHERE u.first_name IS NOT NULL AND u.last_name IS NOT NULL
                  AND (SELECT count(*) FROM users o WHERE o.first_name = u.first_name AND o.last_name = u.last_name)
                    + (SELECT count(*) FROM crm_contacts o WHERE o.first_name = u.first_name
                        AND o.last_name = u.last_name) = 2
                  AND EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id AND o.status IN ('paid', 'shipped'))
                ORDER BY u.id LIMIT %s
                """,
                [count],
            ).fetchall()
        assert len(rows) == count
        return [Person(*row) for row in rows]


@pytest.fixture(scope="module")
def erasure_stack(source_settings: Settings) -> Iterator[ErasureStack]:
    dsn = create_source_database(source_settings)
    with pytest.MonkeyPatch.context() as env:
        env.setenv(ENV_PG_DSN, dsn)
        settings = resolve_settings("erasure", create=True)
        settings.home.mkdir(parents=True, exist_ok=True)
        generate(dsn, scale=0.05, seed=11)
        for day in DATES:
            extract(settings, day)
        lake = Lake.from_settings(settings.lake)
        users_key = f"raw/postgres/users/dt={DATES[0]}/part-0000.parquet"
        # A foreign copy of a users file the loader quarantined (one column dropped), and unreadable garbage.
        table = lake.read_table(users_key).drop_columns(["is_active"])
        lake.write_parquet(f"quarantine/raw/postgres/users/dt={DATES[0]}/part-0001.parquet", table)
        emails = "\n".join(table["email"].to_pylist())
        lake.write_bytes(f"quarantine/raw/crm/dt={DATES[0]}/broken.parquet", f"PAR1 not parquet\n{emails}".encode())
        assert not load(settings).quarantined
        build(settings)
        yield ErasureStack(settings, dsn, {**os.environ})
    drop_source_database(dsn)
