"""A private local stack for the pipeline tests: its own SHOPSTREAM_HOME, port and embedded PostgreSQL.

The rows are written by hand (not by the generator) so the tests know the edge values they check:
NULL timestamps, cents, unicode, nested JSON.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from pipeline import source
from pipeline.settings import ENV_HOME, ENV_PG_PORT, Settings, resolve_settings
from pipeline.source.server import free_port

STACK = "pipe"

SEED_SQL = """
INSERT INTO users (email, first_name, last_name, country, plan_type, created_at, updated_at, last_login, is_active)
SELECT 'user' || i || '@example.com', CASE WHEN i % 7 = 0 THEN NULL ELSE 'Zoé' || i END, 'Ng', 'FR',
       (ARRAY['freemium', 'premium', 'enterprise'])[1 + i % 3],
       timestamp '2026-01-01 08:00:00' + i * interval '1 minute 0.123456 second',
       timestamp '2026-01-02', CASE WHEN i % 2 = 0 THEN timestamp '2026-03-01 12:34:56.789' END, i % 5 <> 0
FROM generate_series(1, 300) AS i;
INSERT INTO products (merchant_id, name, description, category, price, stock_quantity)
SELECT i % 4, 'Product ' || i, NULL, 'books', (i * 1.37)::numeric(10, 2), i FROM generate_series(1, 40) AS i;
INSERT INTO orders (user_id, created_at, total_amount, status, country, payment_method)
SELECT 1 + i % 300, timestamp '2026-02-01' + i * interval '1 hour', (i * 3.33 + 0.01)::numeric(10, 2),
       'paid', 'DE', 'paypal'
FROM generate_series(1, 500) AS i;
INSERT INTO order_items (order_id, product_id, quantity, unit_price, line_total)
SELECT 1 + i % 500, 1 + i % 40, 1 + i % 3, 9.99, (1 + i % 3) * 9.99 FROM generate_series(1, 1200) AS i;
INSERT INTO events (user_id, event_type, event_ts, metadata)
SELECT CASE WHEN i % 10 = 0 THEN NULL ELSE 1 + i % 300 END, 'page_view',
       timestamp '2026-02-01' + i * interval '1 second',
       jsonb_build_object('session_id', 's' || i, 'device', 'mobile', 'page_url', '/p/é?' || i,
                          'n', jsonb_build_array(i, 1.5))
FROM generate_series(1, 2000) AS i;
INSERT INTO crm_contacts (email, source, campaign_id, created_at, converted, converted_at)
SELECT 'lead' || i || '@example.com', 'referral', NULL, timestamp '2026-01-01', i % 3 = 0,
       CASE WHEN i % 3 = 0 THEN timestamp '2026-01-05' END
FROM generate_series(1, 150) AS i;
"""


@pytest.fixture(scope="module")
def pipe_env() -> Iterator[dict[str, str]]:
    """Environment of the private stack (home and port), set for the module's duration.

    The home is a fresh folder of its own rather than pytest's tmp_path: concurrent pytest sessions prune each
    other's numbered tmp folders, and the embedded server (its own system user when tests run as root) needs
    every parent folder to be traversable.
    """
    home = Path(tempfile.mkdtemp(prefix="shopstream-pipeline-"))
    home.chmod(0o755)
    env = {ENV_HOME: str(home), ENV_PG_PORT: str(free_port())}
    try:
        with pytest.MonkeyPatch.context() as mp:
            for name, value in env.items():
                mp.setenv(name, value)
            for name in ("SHOPSTREAM_PG_DSN", "SHOPSTREAM_LAKE_URI", "SHOPSTREAM_S3_ENDPOINT", "SHOPSTREAM_WAREHOUSE"):
                mp.delenv(name, raising=False)
            yield env
    finally:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def pipe_stack(pipe_env: dict[str, str]) -> Iterator[Settings]:
    """A running source with the hand-written rows; stopped afterwards."""
    settings = resolve_settings(STACK, create=True)
    try:
        dsn = source.up(settings)
        with psycopg.connect(dsn) as conn:
            conn.execute(SEED_SQL)
        yield settings
    finally:
        source.down(settings)


@pytest.fixture
def lake_dir(pipe_stack: Settings) -> Path:
    return Path(pipe_stack.lake.uri)
