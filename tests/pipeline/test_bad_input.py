"""The bad-input suite: lake files, CLI options and environment variables a hostile new user tries.

One prepared local stack (real embedded PostgreSQL, lake directory, DuckDB; loaded once) serves every case. Each
case asserts: a non-zero exit (the exact code where it is documented), exactly one line on stderr starting with
`error:`, no traceback, no "unexpected" (an error nobody anticipated), and nothing lost: RAW holds exactly the rows
it held once the good files were loaded, and a bad lake file is kept under quarantine/.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.extract import extract
from pipeline.lake import Lake, parquet_bytes
from pipeline.lake_contract import manifest_key, part_key
from pipeline.load import load
from pipeline.load.duckdb import layer_counts
from pipeline.naming import SOURCE_TABLES
from pipeline.settings import Settings
from tests.helpers.seeded import STACK

DATE = "2026-11-24"
QUARANTINED, NOTHING_TO_LOAD, RESOURCE = 3, 4, 6
runner = CliRunner()


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    fragment: str = ""  # a piece of the one line that tells the user what to do
    exit_code: int | None = None  # the documented exit code, when there is one


@pytest.fixture(scope="module")
def prepared(pipe_stack: Settings) -> Settings:
    extract(pipe_stack, DATE)
    report = load(pipe_stack, DATE)
    assert report.files_loaded == len(SOURCE_TABLES) and not report.quarantined
    return pipe_stack


@pytest.fixture(scope="module")
def loaded(prepared: Settings) -> dict[str, int]:
    """RAW's rows per table once the good files are loaded: what every case must leave exactly as it was."""
    rows = _raw(prepared)
    assert rows.keys() >= set(SOURCE_TABLES) and all(rows[table] > 0 for table in SOURCE_TABLES)
    return rows


def _raw(settings: Settings) -> dict[str, int]:
    return layer_counts(settings)["RAW"]


def assert_clean_failure(result, case: Case) -> str:
    output = result.output + result.stderr
    assert result.exit_code not in (0, None), f"{case.name}: exit 0\n{output}"
    assert "Traceback" not in output, f"{case.name}: traceback\n{output}"
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"{case.name}: {len(lines)} lines on stderr\n{result.stderr}"
    assert lines[0].startswith("error: "), f"{case.name}: {lines[0]}"
    assert "unexpected" not in lines[0], f"{case.name}: {lines[0]}"
    assert case.fragment in lines[0], f"{case.name}: {case.fragment!r} not in {lines[0]!r}"
    if case.exit_code is not None:
        assert result.exit_code == case.exit_code, f"{case.name}: exit {result.exit_code}, want {case.exit_code}"
    return lines[0]


# -- lake files: every kind of bad file, for every table ---------------------------------------------------------
def _good(lake: Lake, table: str) -> pa.Table:
    return lake.read_table(part_key(table, DATE))


def _with_null(table: pa.Table, column: str) -> pa.Table:
    values = table.column(column).to_pylist()
    values[0] = None
    index = table.column_names.index(column)
    nullable = table.schema.field(index).with_nullable(True)  # a writer that ignored the contract
    return table.set_column(index, nullable, pa.array(values, type=nullable.type))


def _required_non_key(table: pa.Table) -> str:
    return next(f.name for f in table.schema if not f.nullable and f.name != "id")


BAD_FILES: dict[str, Callable[[pa.Table], bytes]] = {
    "garbage bytes": lambda t: b"\x00garbage, not parquet" * 10,
    "empty file": lambda t: b"",
    "truncated parquet": lambda t: parquet_bytes(t)[: len(parquet_bytes(t)) // 2],
    "csv named .parquet": lambda t: b"id,email\n1,a@example.com\n",
    "json named .parquet": lambda t: b'{"id": 1}',
    "foreign table": lambda t: parquet_bytes(pa.table({"id": [1], "colour": ["red"]})),
    "missing column": lambda t: parquet_bytes(t.drop_columns([t.column_names[-1]])),
    "extra column": lambda t: parquet_bytes(t.append_column("extra", pa.array([1] * t.num_rows))),
    "id as text": lambda t: parquet_bytes(t.set_column(0, "id", t.column("id").cast(pa.string()))),
    "NULL key": lambda t: parquet_bytes(_with_null(t, "id")),
    "NULL in a required column": lambda t: parquet_bytes(_with_null(t, _required_non_key(t))),
    "duplicate keys": lambda t: parquet_bytes(pa.concat_tables([t, t.slice(0, 1)])),
    "duplicate keys in key order": lambda t: parquet_bytes(pa.concat_tables([t, t.slice(1, 1)]).sort_by("id")),
}
LAKE_CASES = [(kind, table) for kind in BAD_FILES for table in SOURCE_TABLES]


@pytest.mark.parametrize(("kind", "table"), LAKE_CASES, ids=[f"{k}-{t}" for k, t in LAKE_CASES])
def test_bad_lake_file_is_quarantined_with_exit_3(
    prepared: Settings, loaded: dict[str, int], kind: str, table: str
) -> None:
    lake = Lake.from_settings(prepared.lake)
    case_date = (date(2030, 1, 1) + timedelta(days=LAKE_CASES.index((kind, table)))).isoformat()
    key = part_key(table, case_date)
    lake.write_bytes(key, BAD_FILES[kind](_good(lake, table)))
    lake.write_json(manifest_key(case_date), {"extract_date": case_date, "files": [{"table": table, "key": key}]})

    result = runner.invoke(app, ["load", "--stack", STACK, "--date", case_date])

    assert_clean_failure(result, Case(kind, (), fragment="quarantined", exit_code=QUARANTINED))
    assert f"quarantined quarantine/{key}" not in result.stderr
    assert key in result.output  # the file and its reason are listed on stdout
    assert _raw(prepared) == loaded
    assert not lake.exists(key) and lake.exists(f"quarantine/{key}")  # moved aside, not lost


# -- CLI options and environment variables -----------------------------------------------------------------------
FILES: dict[str, str] = {}  # files some cases point at: written into each test's tmp_path


def _outputs(tmp: Path, name: str, text: str) -> str:
    FILES[name] = text
    return str(tmp / name)


def cli_cases(tmp: Path) -> list[Case]:
    cases = []
    for stack in ("[/x]", "[red]x", "[bold]", "Bad_Name", "", "a" * 30, "x--y", "-x", "1abc", "x y", "é"):
        for command in ("status", "load", "extract"):
            cases.append(Case(f"{command} --stack {stack!r}", (command, "--stack", stack), fragment="invalid stack"))
    cases.append(Case("markup stack kept verbatim", ("status", "--stack", "[red]x"), fragment="'[red]x'"))
    cases.append(Case("unknown stack", ("load", "--stack", "ghost"), fragment="unknown stack 'ghost'", exit_code=2))
    cases.append(Case("unknown stack dsn", ("source", "dsn", "--stack", "ghost"), fragment="unknown stack"))
    for value in ("", "[/b]", "2026-02-30", "24/11/2026", "2026-1-5", "today", "2026-11-24T00:00", " 2026-11-24"):
        for command in ("extract", "load", "run"):
            cases.append(
                Case(f"{command} --date {value!r}", (command, "--stack", STACK, "--date", value), fragment="date")
            )
    for value in ("", "2026-13-01", "[/b]", "yesterday"):
        cases.append(
            Case(
                f"transform --as-of-date {value!r}",
                ("transform", "--stack", STACK, "--as-of-date", value),
                fragment="date",
            )
        )
    for scale in ("-1", "0", "nan", "inf", "-inf"):
        for command in ("generate", "run"):
            cases.append(
                Case(f"{command} --scale {scale}", (command, "--stack", STACK, "--scale", scale), fragment="--scale")
            )
    for scale in ("1e9", "5000"):
        cases.append(
            Case(
                f"run --scale {scale}",
                ("run", "--stack", STACK, "--scale", scale),
                fragment="--scale",
                exit_code=RESOURCE,
            )
        )
    cases += [
        Case(
            "generate into a full source",
            ("generate", "--stack", STACK, "--scale", "0.01"),
            fragment="already holds data",
        ),
        Case(
            "load a date never extracted",
            ("load", "--stack", STACK, "--date", "2020-01-01"),
            fragment="no finished extraction",
            exit_code=NOTHING_TO_LOAD,
        ),
        Case(
            "unload a key never loaded",
            ("lake", "unload", "--stack", STACK, "raw/x/dt=2020-01-01/p.parquet"),
            fragment="not loaded",
        ),
        Case("unload with nothing named", ("lake", "unload", "--stack", STACK), fragment="name the lake file"),
        Case(
            "unload a date never loaded",
            ("lake", "unload", "--stack", STACK, "--date", "2020-01-01"),
            fragment="not loaded",
        ),
        Case("unload a bad date", ("lake", "unload", "--stack", STACK, "--date", "[/b]"), fragment="date"),
        Case(
            "outputs file missing",
            ("status", "--stack", STACK, "--outputs", str(tmp / "none.json")),
            fragment="does not exist",
            exit_code=2,
        ),
        Case(
            "outputs not JSON",
            ("status", "--stack", STACK, "--outputs", _outputs(tmp, "bad.json", "{oops")),
            fragment="not valid JSON",
            exit_code=2,
        ),
        Case(
            "outputs a list",
            ("status", "--stack", STACK, "--outputs", _outputs(tmp, "list.json", "[1]")),
            fragment="JSON object",
            exit_code=2,
        ),
        Case(
            "outputs missing keys",
            ("status", "--stack", STACK, "--outputs", _outputs(tmp, "empty.json", "{}")),
            fragment="not usable",
            exit_code=2,
        ),
        Case(
            "outputs with markup",
            ("status", "--stack", STACK, "--outputs", _outputs(tmp, "markup.json", '{"stack": "[/x]"}')),
            fragment="not usable",
            exit_code=2,
        ),
    ]
    load_cmd = ("load", "--stack", STACK)
    cases += [
        Case("port not a number", load_cmd, {"SHOPSTREAM_PG_PORT": "abc"}, "SHOPSTREAM_PG_PORT", 2),
        Case("port empty", load_cmd, {"SHOPSTREAM_PG_PORT": ""}, "SHOPSTREAM_PG_PORT", 2),
        Case("port privileged", load_cmd, {"SHOPSTREAM_PG_PORT": "80"}, "SHOPSTREAM_PG_PORT", 2),
        Case("port too high", load_cmd, {"SHOPSTREAM_PG_PORT": "70000"}, "SHOPSTREAM_PG_PORT", 2),
        Case("port markup", load_cmd, {"SHOPSTREAM_PG_PORT": "[/x]"}, "SHOPSTREAM_PG_PORT", 2),
        Case("warehouse unknown", load_cmd, {"SHOPSTREAM_WAREHOUSE": "oracle"}, "unknown warehouse", 2),
        Case("warehouse markup", load_cmd, {"SHOPSTREAM_WAREHOUSE": "[/x]"}, "unknown warehouse", 2),
        Case("snowflake without outputs", load_cmd, {"SHOPSTREAM_WAREHOUSE": "snowflake"}, "no Snowflake outputs", 2),
        Case("lake s3 without bucket", load_cmd, {"SHOPSTREAM_LAKE_URI": "s3://"}, "names no bucket"),
        Case("lake s3 empty bucket name", load_cmd, {"SHOPSTREAM_LAKE_URI": "s3:///prefix"}, "names no bucket"),
        Case(
            "lake mistyped path",
            load_cmd,
            {"SHOPSTREAM_LAKE_URI": str(tmp / "no-such-lake")},
            "no finished extraction",
            NOTHING_TO_LOAD,
        ),
        Case(
            "lake markup path",
            load_cmd,
            {"SHOPSTREAM_LAKE_URI": str(tmp / "[/x]")},
            "no finished extraction",
            NOTHING_TO_LOAD,
        ),
        Case("lake is a file", load_cmd, {"SHOPSTREAM_LAKE_URI": _outputs(tmp, "lake-file", "x")}, "lake"),
        Case("dsn garbage", ("extract", "--stack", STACK, "--date", DATE), {"SHOPSTREAM_PG_DSN": "not a dsn"}, "DSN"),
        Case("dsn markup", ("extract", "--stack", STACK, "--date", DATE), {"SHOPSTREAM_PG_DSN": "[/x]"}, "DSN"),
        Case(
            "dsn unreachable",
            ("extract", "--stack", STACK, "--date", DATE),
            {"SHOPSTREAM_PG_DSN": "postgresql://u:pw@127.0.0.1:1/x"},
            "cannot connect",
        ),
        Case("stack env markup", ("status",), {"SHOPSTREAM_STACK": "[/x]"}, "invalid stack"),
        Case("stack env unknown", ("status",), {"SHOPSTREAM_STACK": "nobody-here"}, "unknown stack", 2),
    ]
    return cases


CLI_CASES = cli_cases(Path("/nonexistent-placeholder"))  # names only; the real paths come from tmp_path below


@pytest.mark.parametrize("index", range(len(CLI_CASES)), ids=[case.name for case in CLI_CASES])
def test_bad_option_or_environment_is_one_clean_line(
    prepared: Settings, loaded: dict[str, int], tmp_path: Path, index: int
) -> None:
    case = cli_cases(tmp_path)[index]
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
    result = runner.invoke(app, list(case.args), env={"SHOPSTREAM_DEBUG": None, **case.env})
    line = assert_clean_failure(result, case)
    assert "pw@" not in line  # a DSN's password never shows
    assert _raw(prepared) == loaded


def test_the_suite_covers_at_least_95_cases() -> None:
    assert len(LAKE_CASES) + len(CLI_CASES) >= 95


def test_lake_and_warehouse_files_are_private(prepared: Settings) -> None:
    """Files the stack keeps personal data in are not readable by other users of the machine."""
    runner.invoke(app, ["extract", "--stack", STACK, "--date", "2026-11-26"])
    home = prepared.home
    assert home.stat().st_mode & 0o007 == 0  # others cannot even enter the stack folder
    written = [p for p in (home / "lake").rglob("*") if p.is_file() and "dt=2026-11-26" in str(p)]
    assert written and all(p.stat().st_mode & 0o077 == 0 for p in written)
    assert json.loads((Path(prepared.lake.uri) / manifest_key("2026-11-26")).read_text())["files"]
