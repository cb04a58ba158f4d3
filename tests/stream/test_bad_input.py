"""Bad input to `shopstream stream`: one line, a non-zero exit, and nothing half-written."""

from __future__ import annotations

import shutil
from datetime import datetime

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.errors import ShopstreamError
from pipeline.lake import Lake
from pipeline.settings import Settings
from pipeline.stream.capture import capture_batch, ensure_lake
from pipeline.stream.load import load_pending
from pipeline.stream.simulate import simulate_minute
from pipeline.stream.state import acquire_stream_lock
from pipeline.stream.tables import STREAM_PREFIX
from tests.helpers.stream import connect, lake_root, prepared


def _stream(settings: Settings, *args: str):
    env = {"SHOPSTREAM_PG_DSN": settings.source.dsn.get_secret_value(), "SHOPSTREAM_LAKE_URI": settings.lake.uri}
    return CliRunner().invoke(app, ["stream", "--stack", settings.stack, "--duration", "1", *args], env=env)


def _one_error_line(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code != 0
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    return lines[0]


@pytest.mark.parametrize(
    ("option", "value"), [("--speed", "0"), ("--duration", "-1"), ("--batch-seconds", "0"), ("--speed", "-5")]
)
def test_non_positive_options_are_refused(option, value):
    result = CliRunner().invoke(app, ["stream", option, value])
    assert f"{option} must be positive" in _one_error_line(result)


def test_a_stack_without_base_data_is_refused(stream_stack):
    settings = stream_stack(base_data=False)
    assert "has no base data" in _one_error_line(_stream(settings))
    with connect(settings) as conn:
        assert conn.execute("SELECT count(*) FROM orders").fetchone()[0] == 0


def test_a_second_stream_on_the_same_stack_is_refused(stream_stack):
    settings = stream_stack()
    with connect(settings) as holder:
        acquire_stream_lock(holder, settings.stack)  # another stream holds the stack
        assert "a stream is already running" in _one_error_line(_stream(settings))
    with connect(settings) as conn:
        assert conn.execute("SELECT count(*) FROM sim_clock").fetchone()[0] == 0  # it never started


def test_a_lake_that_disappears_stops_the_batch_before_the_journal(stream_stack):
    settings = stream_stack()
    conn, catalog = prepared(settings)
    lake = Lake.from_settings(settings.lake)
    ensure_lake(lake)
    simulate_minute(conn, catalog, datetime(2026, 1, 1), seed=1)
    shutil.rmtree(lake_root(settings))
    with pytest.raises(ShopstreamError, match="disappeared"):
        capture_batch(conn, lake)
    assert conn.execute("SELECT count(*) FROM stream_batches").fetchone()[0] == 0
    assert not lake_root(settings).exists()  # not quietly recreated


def test_a_warehouse_that_disappears_is_an_error_and_the_batch_stays_pending(stream_stack):
    settings = stream_stack()
    conn, catalog = prepared(settings)
    lake = Lake.from_settings(settings.lake)
    ensure_lake(lake)
    simulate_minute(conn, catalog, datetime(2026, 1, 1), seed=1)
    assert capture_batch(conn, lake) is not None
    assert lake.list_files(STREAM_PREFIX)
    with pytest.raises(ShopstreamError, match="disappeared"):
        load_pending(settings, conn, lake, warehouse_must_exist=True)  # the file was there when the stream began
    assert conn.execute("SELECT count(*) FROM stream_batches WHERE loaded_at IS NULL").fetchone()[0] == 1
    assert not settings.warehouse.path.exists()
