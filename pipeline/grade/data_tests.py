"""The repo's dbt data tests on a local stack: compiled once by dbt, run as plain SQL on the DuckDB file, read-only.

`dbt test` per student would cost a dbt parse and a writable copy of the warehouse (dbt-duckdb opens its file for
writing), yet the SQL of the tests is the same for every student. So dbt compiles the project's data tests once, in
a sandbox: an empty DuckDB file whose catalog mirrors the student's (same schemas, relations, columns and types, no
rows), because a test may ask dbt whether a relation exists (`adapter.get_relation`) and compile differently. Each
student's file is then attached READ_ONLY under the sandbox's catalog name, so the compiled relation names resolve
to the student's tables, and every test is wrapped and judged as dbt's test materialization does it (`fail_calc`,
`warn_if`, `error_if`, `severity`, `limit`).

Compiled tests are cached in memory and in `$SHOPSTREAM_HOME/grading/data-tests/<digest>.json`, keyed by the dbt
project's files, the dbt versions and the mirrored catalog: a class of correct stacks shares one compilation, a
stack with a relation or a column more or less gets its own. Snowflake stacks keep dbt itself (pipeline.grade.checks).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from pipeline.errors import ShopstreamError, brief
from pipeline.grade.key import files_digest
from pipeline.settings import shopstream_home
from pipeline.transform import DBT_PROJECT_DIR, runner
from pipeline.transform.report import NodeResult

# The catalog name the tests are compiled against, and the name each student's file is attached under.
SANDBOX_CATALOG = "graded_stack"
CACHE_FORMAT = 1
# What the compiled SQL depends on besides the catalog.
_PROJECT = ("dbt/models", "dbt/macros", "dbt/tests", "dbt/snapshots", "dbt/dbt_project.yml", "dbt/profiles.yml")
_DBT_DISTRIBUTIONS = ("dbt-core", "dbt-adapters", "dbt-duckdb")
# The grader never knows a stack's privacy salt, and no data test reads it: any salt compiles the same tests.
_COMPILE_SALT = "data-tests-compiled-without-any-stack-salt"

Column = tuple[str, str, str, str]  # schema, relation, column, type


@dataclass(frozen=True)
class CompiledTest:
    """One data test as dbt compiled it, with the config dbt judges its result by."""

    unique_id: str
    name: str
    sql: str | None  # None: dbt could not compile the test (`error` says why)
    severity: str = "ERROR"
    fail_calc: str = "count(*)"
    warn_if: str = "!= 0"
    error_if: str = "!= 0"
    limit: int | None = None
    error: str = ""

    def query(self) -> str:
        """The statement dbt's test materialization runs (`get_limit_sql` and `default__get_test_sql`)."""
        main = self.sql if self.limit is None else f"{self.sql}\nlimit {self.limit}"
        return (
            f"select {self.fail_calc} as failures, "
            f"{self.fail_calc} {self.warn_if} as should_warn, "
            f"{self.fail_calc} {self.error_if} as should_error "
            f"from (\n{main}\n) dbt_internal_test"
        )


def default_cache_dir() -> Path:
    return shopstream_home() / "grading" / "data-tests"


def run_data_tests(warehouse: Path, cache_dir: Path | None = None) -> list[NodeResult]:
    """Every data test of the project on the DuckDB file `warehouse`, attached read-only; one result per test."""
    import duckdb

    connection = duckdb.connect()  # in memory: the student's file is only attached, and read-only
    try:
        connection.execute(f"ATTACH {_literal(str(warehouse))} AS {SANDBOX_CATALOG} (READ_ONLY)")
        connection.execute(f"USE {SANDBOX_CATALOG}")
        tests = compiled_tests(read_catalog(connection), cache_dir or default_cache_dir())
        return [_run(connection, test) for test in tests]
    finally:
        connection.close()


def read_catalog(connection: Any) -> list[Column]:
    """Every column of every relation of the attached stack: what the sandbox mirrors."""
    rows = connection.execute(
        "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = ? ORDER BY table_schema, table_name, ordinal_position",
        [SANDBOX_CATALOG],
    ).fetchall()
    return [tuple(row) for row in rows]


# -- compiling, once per catalog -----------------------------------------------------------------------------------
_LOCK = threading.Lock()  # one compilation at a time; students graded in parallel wait for it and share it
_COMPILED: dict[str, list[CompiledTest]] = {}
_PARSE_STATE: tempfile.TemporaryDirectory | None = None  # dbt's target folder for this process (partial parsing)


def compiled_tests(catalog: list[Column], cache_dir: Path) -> list[CompiledTest]:
    """The project's data tests compiled against `catalog`: from memory, the cache folder, or dbt (then cached)."""
    digest = catalog_digest(catalog)
    with _LOCK:
        if digest not in _COMPILED:
            cache_file = Path(cache_dir) / f"{digest}.json"
            _COMPILED[digest] = _read_cache(cache_file) or _store(cache_file, compile_tests(catalog))
        return _COMPILED[digest]


def catalog_digest(catalog: list[Column]) -> str:
    digest = hashlib.sha256()
    digest.update(f"format {CACHE_FORMAT}\0project {files_digest(_PROJECT)}\0".encode())
    for distribution in _DBT_DISTRIBUTIONS:
        digest.update(f"{distribution} {metadata.version(distribution)}\0".encode())
    digest.update(json.dumps(catalog).encode())
    return digest.hexdigest()


def compile_tests(catalog: list[Column]) -> list[CompiledTest]:
    """`dbt compile` of every data test (unit tests check code, not data) against a sandbox mirroring `catalog`."""
    global _PARSE_STATE
    if _PARSE_STATE is None:  # kept for the process: a second compilation reuses dbt's parse of the project
        _PARSE_STATE = tempfile.TemporaryDirectory(prefix="shopstream-data-tests-dbt-")
    dbt_folder = Path(_PARSE_STATE.name)
    # The sandbox has the same path at every compilation of the process: its path is part of dbt's profile, and a
    # profile that changed would cost a full parse of the project instead of a partial one.
    scratch = dbt_folder / "sandbox"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    try:
        sandbox = scratch / f"{SANDBOX_CATALOG}.duckdb"
        _mirror(catalog, sandbox)
        env = {"SHOPSTREAM_DBT_TARGET": "local", "SHOPSTREAM_DUCKDB_PATH": str(sandbox)}
        env["SHOPSTREAM_PRIVACY_SALT"] = _COMPILE_SALT
        command = [
            "compile", "--select", "resource_type:test", "--exclude", "resource_type:unit_test",
            "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR), "--target", "local",
            "--target-path", str(dbt_folder / "target"), "--log-path", str(dbt_folder / "logs"), "--no-write-json",
        ]  # fmt: skip
        returned, errors = runner.invoke(command, env)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if not hasattr(returned, "results"):
        reason = brief(errors[-1]) if errors else "no error message"
        raise ShopstreamError(f"dbt could not compile the data tests: {reason}")
    tests = [_compiled(result) for result in returned.results if result.node.resource_type == "test"]
    return sorted(tests, key=lambda test: test.unique_id)


def _compiled(result: Any) -> CompiledTest:
    node, config = result.node, result.node.config
    compiled = getattr(result.status, "value", result.status) == "success" and node.compiled_code is not None
    return CompiledTest(
        unique_id=node.unique_id,
        name=node.name,
        sql=node.compiled_code if compiled else None,
        severity=str(config.severity).upper(),
        fail_calc=config.fail_calc,
        warn_if=config.warn_if,
        error_if=config.error_if,
        limit=config.limit,
        error="" if compiled else brief(result.message or "dbt could not compile the test"),
    )


def _mirror(catalog: list[Column], sandbox: Path) -> None:
    """Empty tables with the stack's schemas, relation names, columns and types."""
    import duckdb

    relations: dict[tuple[str, str], list[str]] = {}
    for schema, relation, column, data_type in catalog:
        relations.setdefault((schema, relation), []).append(f"{_quote(column)} {data_type}")
    with duckdb.connect(str(sandbox)) as connection:
        for schema in sorted({schema for schema, _ in relations}):
            connection.execute(f"CREATE SCHEMA IF NOT EXISTS {_quote(schema)}")
        for (schema, relation), columns in relations.items():
            connection.execute(f"CREATE TABLE {_quote(schema)}.{_quote(relation)} ({', '.join(columns)})")


def _read_cache(path: Path) -> list[CompiledTest] | None:
    try:
        return [CompiledTest(**test) for test in json.loads(path.read_text())["tests"]]
    except (OSError, ValueError, KeyError, TypeError):  # absent or unreadable: compile again
        return None


def _store(path: Path, tests: list[CompiledTest]) -> list[CompiledTest]:
    """Write the cache file atomically; a folder that cannot be written only costs a compilation next time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps({"tests": [asdict(test) for test in tests]}, indent=1, sort_keys=True))
        os.replace(partial, path)
    except OSError:
        pass
    return tests


# -- running, per student ------------------------------------------------------------------------------------------
def _run(connection: Any, test: CompiledTest) -> NodeResult:
    """One test judged as dbt judges it (dbt.task.test.TestRunner.build_test_run_result, without --warn-error)."""
    import duckdb

    started = time.perf_counter()

    def result(status: str, message: str | None = None, failures: int | None = None) -> NodeResult:
        seconds = round(time.perf_counter() - started, 3)
        return NodeResult(test.unique_id, test.name, "test", status, seconds, message, failures)

    if test.sql is None:
        return result("error", test.error)
    try:
        failures, should_warn, should_error = connection.execute(test.query()).fetchone()
    except duckdb.Error as exc:  # a missing relation or column: the engine's own words
        return result("error", brief(str(exc)))
    got = f"Got {failures} result{'' if failures == 1 else 's'}"
    if test.severity == "ERROR" and should_error:
        return result("fail", f"{got}, configured to fail if {test.error_if}", failures)
    if should_warn:
        return result("warn", f"{got}, configured to warn if {test.warn_if}", failures)
    return result("pass", failures=0)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
