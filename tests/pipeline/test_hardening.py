"""Honest loads, undoable loads, safe COPY statements, clean temporaries, children that die with their parent.

Real embedded PostgreSQL, lake directory and DuckDB (the module's private stack); fakes nowhere.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import psutil
import psycopg
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from pipeline import source
from pipeline.cli import app
from pipeline.errors import ShopstreamError
from pipeline.extract import extract
from pipeline.generate import generate
from pipeline.lake import STALE_TMP_S, Lake
from pipeline.lake_contract import manifest_key, part_key, partition_prefix, validate_lake_key
from pipeline.load import load
from pipeline.load.duckdb import layer_counts
from pipeline.load.snowflake_sql import copy_into
from pipeline.settings import Settings
from pipeline.source.database import apply_schema
from tests.helpers.seeded import STACK

DATE = "2026-11-24"
runner = CliRunner()


@pytest.fixture(scope="module")
def loaded(pipe_stack: Settings) -> Settings:
    extract(pipe_stack, DATE)
    load(pipe_stack, DATE)
    return pipe_stack


def _raw(settings: Settings) -> dict[str, int]:
    return layer_counts(settings)["RAW"]


def _copy_partition(lake: Lake, new_date: str, tables: list[str], manifest: bool = True) -> dict[str, str]:
    keys = {}
    for table in tables:
        data = lake.read_bytes(part_key(table, DATE))
        keys[table] = part_key(table, new_date)
        lake.write_bytes(keys[table], data)
    if manifest:
        files = [{"table": t, "key": k} for t, k in keys.items()]
        lake.write_json(manifest_key(new_date), {"extract_date": new_date, "files": files})
    return keys


def _null_users(lake: Lake, key: str) -> None:
    users = lake.read_table(part_key("users", DATE))
    emails = users.column("email").to_pylist()
    emails[0] = None
    field = users.schema.field("email").with_nullable(True)
    lake.write_parquet(key, users.set_column(1, field, pa.array(emails, type=pa.string())))


# -- 3. exit codes -----------------------------------------------------------------------------------------------
def test_a_quarantine_exits_3_unless_accepted(loaded: Settings) -> None:
    lake = Lake.from_settings(loaded.lake)
    keys = _copy_partition(lake, "2031-01-01", ["users", "orders"])
    lake.write_bytes(keys["orders"], b"not parquet")
    refused = runner.invoke(app, ["load", "--stack", STACK, "--date", "2031-01-01"])
    assert refused.exit_code == 3, refused.output
    # The good file loaded all the same; accepting changes only the verdict.
    again = _copy_partition(lake, "2031-01-02", ["orders"])
    lake.write_bytes(again["orders"], b"not parquet either")
    accepted = runner.invoke(app, ["load", "--stack", STACK, "--date", "2031-01-02", "--accept-quarantine"])
    assert accepted.exit_code == 0, accepted.output
    assert "1 quarantined" in accepted.output


def test_nothing_to_load_exits_4(loaded: Settings, tmp_path: Path) -> None:
    never = runner.invoke(app, ["load", "--stack", STACK, "--date", "2019-05-05"])
    assert never.exit_code == 4 and "no finished extraction for 2019-05-05" in never.stderr
    mistyped = runner.invoke(app, ["load", "--stack", STACK], env={"SHOPSTREAM_LAKE_URI": str(tmp_path / "typo")})
    assert mistyped.exit_code == 4 and "holds no finished extraction" in mistyped.stderr


def test_a_rerun_with_everything_loaded_is_still_success(loaded: Settings) -> None:
    result = runner.invoke(app, ["load", "--stack", STACK, "--date", DATE])
    assert result.exit_code == 0, result.output
    assert "loaded 0 rows" in result.output and "6 already loaded" in result.output


# -- 4. what RAW requires is checked at load; a load can be undone ------------------------------------------------
def test_nulls_in_required_columns_are_quarantined_not_loaded(loaded: Settings) -> None:
    lake = Lake.from_settings(loaded.lake)
    key = part_key("users", "2031-02-01")
    _null_users(lake, key)
    lake.write_json(manifest_key("2031-02-01"), {"files": [{"table": "users", "key": key}]})
    before = _raw(loaded)
    report = load(loaded, "2031-02-01")
    (quarantined,) = report.quarantined
    assert "1 NULL(s) in required column email" in quarantined.reason
    assert _raw(loaded) == before


def test_unload_removes_a_files_rows_and_the_next_load_brings_them_back(loaded: Settings) -> None:
    lake = Lake.from_settings(loaded.lake)
    keys = _copy_partition(lake, "2031-03-01", ["orders"])
    load(loaded, "2031-03-01")
    with_file = _raw(loaded)
    result = runner.invoke(app, ["lake", "unload", "--stack", STACK, keys["orders"]])
    assert result.exit_code == 0, result.output
    assert f"unloaded 500 rows of {keys['orders']}" in result.output
    assert _raw(loaded)["orders"] == with_file["orders"] - 500
    assert load(loaded, "2031-03-01").rows_loaded == 500  # no history row left: it loads again
    assert _raw(loaded) == with_file
    quarantined = runner.invoke(app, ["lake", "unload", "--stack", STACK, "--date", "2031-03-01", "--quarantine"])
    assert quarantined.exit_code == 0, quarantined.output
    assert lake.exists(f"quarantine/{keys['orders']}") and not lake.exists(keys["orders"])
    assert _raw(loaded)["orders"] == with_file["orders"] - 500


# -- 5. only finished partitions; unknown files reported; quarantine keeps every copy -----------------------------
def test_a_partition_without_manifest_is_not_loaded_and_is_reported(loaded: Settings) -> None:
    lake = Lake.from_settings(loaded.lake)
    _copy_partition(lake, "2031-04-01", ["users"], manifest=False)
    before = _raw(loaded)
    report = load(loaded)
    assert f"{partition_prefix('users', '2031-04-01')}/" in report.unfinished
    assert _raw(loaded)["users"] == before["users"]


def test_unknown_files_are_reported(loaded: Settings) -> None:
    lake = Lake.from_settings(loaded.lake)
    extra = f"{partition_prefix('orders', DATE)}/extra.csv"
    lake.write_bytes(extra, b"id\n1\n")
    result = runner.invoke(app, ["load", "--stack", STACK, "--date", DATE])
    assert result.exit_code == 0, result.output
    assert f"unknown file {extra}" in result.output
    assert lake.exists(extra)


def test_quarantining_the_same_key_twice_keeps_both_copies(loaded: Settings) -> None:
    lake = Lake.from_settings(loaded.lake)
    key = part_key("orders", "2031-05-01")
    lake.write_json(manifest_key("2031-05-01"), {"files": [{"table": "orders", "key": key}]})
    for content in (b"first bad copy", b"second bad copy"):
        lake.write_bytes(key, content)
        load(loaded, "2031-05-01")
    assert lake.read_bytes(f"quarantine/{key}") == b"first bad copy"
    assert lake.read_bytes(f"quarantine/{key}.1") == b"second bad copy"


# -- 6. COPY INTO only ever sees lake-layout paths, quoted -----------------------------------------------------------
@pytest.mark.parametrize(
    "key",
    [
        "raw/postgres/orders/dt=2026-11-24/part-0000.parquet'\nFORCE = TRUE --",
        "raw/postgres/orders/dt=2026-11-24\nON_ERROR = CONTINUE/part.parquet",
        "raw/postgres/users/dt=2026-11-24/part-0000.parquet",  # another table's file
        "raw/postgres/orders/dt=2026-11-24/../../../secret.parquet",
        "raw/postgres/orders/part-0000.parquet",
    ],
)
def test_a_manifest_key_outside_the_lake_layout_is_refused(key: str) -> None:
    with pytest.raises(ShopstreamError, match="not a orders file of the lake layout"):
        validate_lake_key("orders", key)


def test_copy_into_quotes_the_stage_location_and_refuses_odd_paths() -> None:
    statement = copy_into(
        "orders", "DB", "DB.RAW.LAKE_STAGE", "postgres/orders/dt=2026-11-24", ["part-0000.parquet"], "F"
    )
    assert "FROM '@DB.RAW.LAKE_STAGE/postgres/orders/dt=2026-11-24/'\n" in statement
    with pytest.raises(ValueError):
        copy_into("orders", "DB", "DB.RAW.LAKE_STAGE", "postgres/orders/dt=2026-11-24\nFORCE=TRUE", ["p.parquet"], "F")


# -- 9. the dashboard and a damaged warehouse file ----------------------------------------------------------------
def test_a_damaged_warehouse_file_is_one_message_for_the_dashboard(tmp_path: Path) -> None:
    from dashboard import data

    damaged = tmp_path / "shopstream.duckdb"
    damaged.write_bytes(b"\x00" * 4096 + b"not a database" * 100)
    with pytest.raises(ShopstreamError, match="cannot be read") as error:
        data._read_duckdb(str(damaged), "SELECT 1", ())
    assert "\n" not in str(error.value) and "shopstream load" in str(error.value)
    assert not isinstance(error.value, duckdb.Error)


# -- 10. a failed generate leaves no dead rows holding the disk ---------------------------------------------------
def test_a_failed_generate_leaves_no_dead_rows(pipe_stack: Settings) -> None:
    dsn = source.admin_dsn(pipe_stack)
    database = pipe_stack.source.database
    scratch = "scratch_failed_generate"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {scratch}")
    target = dsn.rsplit("/", 1)[0] + f"/{scratch}"
    apply_schema(target)
    with psycopg.connect(target, autocommit=True) as conn:  # the last table refuses its rows: the load fails late
        conn.execute(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no'; END $$;"
            "CREATE TRIGGER refuse BEFORE INSERT ON crm_contacts FOR EACH ROW EXECUTE FUNCTION refuse()"
        )
    with pytest.raises(ShopstreamError, match="nothing was loaded"):
        generate(target, scale=0.05, seed=1)
    with psycopg.connect(target) as conn:
        sizes = conn.execute("SELECT pg_relation_size('users') + pg_relation_size('events')").fetchone()[0]
    assert sizes == 0  # before: the rolled-back rows kept their pages until a manual VACUUM
    assert database != scratch


# -- 13. children die with their parent -----------------------------------------------------------------------------
def test_a_child_dies_when_its_parent_is_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import subprocess, sys, time
                from pipeline.processes import die_with_parent
                child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                                         preexec_fn=die_with_parent())
                open({str(pid_file)!r}, "w").write(str(child.pid))
                time.sleep(120)
                """
            ),
        ],
        cwd=Path(__file__).resolve().parents[2],
    )
    deadline = time.monotonic() + 30
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child = psutil.Process(int(pid_file.read_text()))
    os.kill(parent.pid, signal.SIGKILL)  # no handler, no cleanup: only the kernel can stop the child now
    parent.wait(10)
    gone, _ = psutil.wait_procs([child], timeout=10)
    assert gone, "the child outlived its killed parent"


# -- 14. temporaries of killed writes are cleaned up ----------------------------------------------------------------
def test_extract_removes_stale_temporaries_but_not_fresh_ones(loaded: Settings) -> None:
    tmp = Path(loaded.lake.uri) / "_tmp"
    stale, fresh = tmp / "dead" / "part-0000.parquet", tmp / "busy" / "part-0000.parquet"
    for path in (stale, fresh):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half a file")
    old = time.time() - STALE_TMP_S - 60
    os.utime(stale, (old, old))
    extract(loaded, DATE)
    assert not stale.exists() and not stale.parent.exists()
    assert fresh.exists()  # another write may still be working on it


# -- 16. every CLI run lands in the run history ---------------------------------------------------------------------
def test_cli_runs_are_recorded_with_their_outcome(loaded: Settings) -> None:
    runner.invoke(app, ["load", "--stack", STACK, "--date", DATE])
    runner.invoke(app, ["load", "--stack", STACK, "--date", "2018-01-01"])
    with duckdb.connect(str(loaded.warehouse.path), read_only=True) as con:
        rows = con.execute(
            "SELECT command, outcome, exit_code, error FROM RAW._RUN_HISTORY ORDER BY started_at DESC LIMIT 2"
        ).fetchall()
    (command, outcome, code, error), (command2, outcome2, code2, error2) = rows
    assert (command, outcome, code) == ("load", "nothing_to_load", 4) and "2018-01-01" in error
    assert (command2, outcome2, code2, error2) == ("load", "success", 0, None)


# -- 8. dbt failures: one brief line naming the log ------------------------------------------------------------------
def test_a_corrupt_warehouse_makes_dbt_fail_in_one_brief_line(pipe_env: dict[str, str]) -> None:
    from pipeline.settings import resolve_settings

    settings = resolve_settings("corrupt", create=True)
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.warehouse.path.write_bytes(b"\x00" * 8192 + b"this is not a DuckDB file" * 400)

    result = runner.invoke(app, ["transform", "--stack", "corrupt"], env={"SHOPSTREAM_DEBUG": None})

    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: dbt build could not run"), result.stderr
    assert len(lines[0]) < 500  # before: dbt's traceback, kilobytes long
    assert "Traceback" not in result.output + result.stderr
    assert str(settings.home / "dbt" / "logs" / "dbt.log") in lines[0]


COMPILATION = "Compilation Error in model stg_orders (models/stg_orders.sql)"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Encountered an error:\nRuntime Error\n  No target named 'x'.\n  - local", "No target named 'x'."),
        (f"{COMPILATION}\n  'x' is undefined", COMPILATION),
        ('Traceback (most recent call last):\n  File "x.py"\nValueError: bad', "ValueError: bad"),
        ("Encountered an error:", "Encountered an error:"),
    ],
)
def test_a_brief_skips_dbts_generic_headings_to_the_reason(message: str, expected: str) -> None:
    from pipeline.errors import brief

    assert brief(message) == expected
