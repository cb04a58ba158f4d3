"""A fresh stream stack per test: a scratch database (schema + small generated base data) on the session's
embedded PostgreSQL, its own local lake folder and DuckDB warehouse."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from pipeline.generate import generate
from pipeline.settings import Settings, apply_overrides, local_settings, shopstream_home
from pipeline.stream.simulate import Catalog
from pipeline.stream.state import apply_stream_schema
from tests.helpers.source import create_source_database, drop_source_database

BASE_SCALE = 0.05  # 50 users, 10 products: stock runs out within minutes, so cancellations happen


def new_stream_stack(source_settings: Settings, *, base_data: bool = True) -> Settings:
    dsn = create_source_database(source_settings)
    if base_data:
        generate(dsn, scale=BASE_SCALE, seed=7)
    stack = f"s{uuid.uuid4().hex[:8]}"
    (shopstream_home() / stack).mkdir(parents=True)
    return apply_overrides(local_settings(stack), dsn=dsn)


@pytest.fixture
def stream_stack(source_settings: Settings) -> Iterator[Callable[..., Settings]]:
    """Factory of stream stacks (each its own database, lake and warehouse); databases dropped afterwards."""
    made: list[Settings] = []

    def make(**kwargs) -> Settings:
        made.append(new_stream_stack(source_settings, **kwargs))
        return made[-1]

    yield make
    for settings in made:
        drop_source_database(settings.source.dsn.get_secret_value())


def connect(settings: Settings) -> psycopg.Connection:
    return psycopg.connect(settings.source.dsn.get_secret_value())


def prepared(settings: Settings) -> tuple[psycopg.Connection, Catalog]:
    """A connection with the stream's tables created and the clock row at 2026-01-01, plus the catalog."""
    conn = connect(settings)
    apply_stream_schema(conn)
    with conn.transaction():
        conn.execute("INSERT INTO sim_clock (sim_time, speed, seed) VALUES ('2026-01-01', 60, 1)")
    return conn, Catalog.read(conn)


def lake_root(settings: Settings) -> Path:
    return Path(settings.lake.uri)
