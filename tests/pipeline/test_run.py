"""`shopstream run` end to end on a private stack: real PostgreSQL, lake, DuckDB and dbt."""

from __future__ import annotations

import re

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline import source
from pipeline.cli import app
from pipeline.settings import resolve_settings

runner = CliRunner()
DATE = "2026-11-24"


@pytest.mark.slow
def test_run_builds_every_layer_and_a_second_load_or_build_adds_nothing(pipe_env: dict[str, str]) -> None:
    settings = resolve_settings("road", create=True)
    try:
        result = runner.invoke(app, ["run", "--stack", "road", "--scale", "0.05", "--seed", "7", "--date", DATE])
        assert result.exit_code == 0, result.output + result.stderr
        counts = source.table_counts(source.source_dsn(settings))
        assert all(n > 0 for n in counts.values())
        # The summary shows, per table, the same count in source, lake and RAW.
        for table, rows in counts.items():
            assert re.search(rf"{table}\s*│\s*{rows:,}\s*│\s*{rows:,}\s*│\s*{rows:,}\s*│", result.output), table
        assert f"lake {DATE}" in result.output
        assert str(settings.warehouse.path) in result.output
        assert "password" not in result.output.lower()

        with duckdb.connect(str(settings.warehouse.path), read_only=True) as con:
            raw_total = sum(con.execute(f'SELECT count(*) FROM RAW."{t}"').fetchone()[0] for t in counts)
        assert raw_total == sum(counts.values())

        again = runner.invoke(app, ["load", "--stack", "road", "--date", DATE])
        assert again.exit_code == 0, again.output
        assert "loaded 0 rows from 0 files" in again.output and "6 already loaded" in again.output
        # Nothing changed since `run` built the marts: dbt does not run again, unless forced.
        unchanged = runner.invoke(app, ["transform", "--stack", "road"])
        assert unchanged.exit_code == 0, unchanged.output
        assert "nothing changed" in unchanged.output and "models built" not in unchanged.output
        forced = runner.invoke(app, ["transform", "--stack", "road", "--force"])
        assert forced.exit_code == 0, forced.output
        assert re.search(r"\b[1-9]\d* models built, \d+ tests passed", forced.output), forced.output

        status = runner.invoke(app, ["status", "--stack", "road"])
        assert status.exit_code == 0
        assert f"{counts['orders']:,}" in status.output
    finally:
        source.down(settings)
