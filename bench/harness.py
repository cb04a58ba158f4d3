"""The benchmark run: for each scale factor, a fresh stack, each step measured in its own process.

Per scale, two fresh stacks, each with its own embedded PostgreSQL on a free port, in the run's one scratch
SHOPSTREAM_HOME (as on a user's machine: every stack of the run shares what is kept per home, such as the verdict of
dbt's unit tests, see pipeline.transform.unit_tests):

* `stages`: `shopstream up`, then generate (+ PostgreSQL load), extract, load and dbt build, one child process each,
  then `shopstream transform --force` timed whole from the outside;
  at the baseline scales, the course's generator (into a second, empty database on the same server) and the
  course's exporter (reading the very rows the product's extract read).
* `e2e`: `shopstream up` (not timed), then `shopstream run` timed as a whole: the "warm" run, see WARM_RUN. With
  `rerun`, a second `shopstream run` on the data it left (nothing to generate, files already loaded).

Every server is stopped and every scratch folder deleted, also when a step fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from bench.measure import Measurement, StepFailed, run_process, run_stage
from pipeline.naming import StackNames
from pipeline.rows import one_row
from pipeline.settings import (
    ENV_CACHE_HOME,
    ENV_HOME,
    ENV_LAKE_URI,
    ENV_OUTPUTS,
    ENV_PG_DSN,
    ENV_PG_PORT,
    ENV_S3_ENDPOINT,
    ENV_STACK,
    ENV_WAREHOUSE,
)
from pipeline.source.database import apply_schema, ensure_database, open_connection, table_counts
from pipeline.source.security import read_credentials
from pipeline.source.server import HOST, SUPERUSER, free_port

STAGE_STACK = "stages"
RUN_STACK = "e2e"
WARM_UP_STACK = "warm-up"
HOME_FOLDER = "home"  # the run's SHOPSTREAM_HOME, under the scratch folder
CACHE_FOLDER = "cache"  # the run's user cache (XDG_CACHE_HOME), beside it
EXTRACT_DATE = "2026-01-15"  # fixed, so reruns overwrite the same partition
BASELINE_DATABASE = "course_baseline"
COURSE_EXPORT = "course_export"  # the course exporter's files, under the run's SHOPSTREAM_HOME
WARM_UP_SCALE = 0.01
# Variables that would point a step at another stack's edges instead of the fresh local one, and the one that
# would keep Python from caching bytecode (every process would then recompile dbt's and Faker's sources).
_DROPPED_VARIABLES = (
    *(ENV_PG_DSN, ENV_LAKE_URI, ENV_S3_ENDPOINT, ENV_WAREHOUSE, ENV_STACK, ENV_OUTPUTS),
    "PYTHONDONTWRITEBYTECODE",
)

STEP_GENERATE = "generate + PostgreSQL load"
STEP_EXTRACT = "extract (PostgreSQL → Parquet lake)"
STEP_LOAD = "load (lake → DuckDB RAW)"
STEP_TRANSFORM = "dbt build"
STEP_TRANSFORM_COMMAND = "dbt build, whole command (`shopstream transform --force`)"
STEP_RUN = "shopstream run (warm)"
STEP_RERUN = "shopstream run again (existing data)"
STEP_BASELINE_GENERATE = "course: Faker + execute_batch"
STEP_BASELINE_EXPORT = "course: pandas.read_sql → CSV"

WARM_RUN = (
    "the virtualenv is installed and a tiny unmeasured `shopstream run` has already imported every package once "
    "(bytecode cached, page cache warm; in the same SHOPSTREAM_HOME, so dbt's unit tests passed on this project "
    "then, and later builds leave them out until the project changes; with the same user cache, so dbt's parse of "
    "the project and the seed's name pools are there, as after a user's first build), and the stack's "
    "PostgreSQL is initialised and running with an empty schema (`shopstream up` done); the timed `shopstream run` "
    "then generates the data, extracts, loads and runs `dbt build` (its first on the stack: no partial-parse file "
    "of its own, the parse comes from the cache), and includes the CLI's own start-up"
)

Log = Callable[[str], None]


@dataclass
class ScaleResult:
    scale: float
    steps: list[Measurement] = field(default_factory=list)
    baseline: list[Measurement] = field(default_factory=list)
    runs: list[Measurement] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    postgres_version: str = ""

    def step(self, name: str) -> Measurement | None:
        return next((m for m in [*self.steps, *self.baseline, *self.runs] if m.name == name), None)


def bench_scale(
    scale: float, *, seed: int, baseline: bool, rerun: bool, workdir: Path, log: Log = print
) -> ScaleResult:
    """Measure every step at `scale` in fresh stacks under `workdir`; a failed step is recorded, not raised."""
    result = ScaleResult(scale)
    home = workdir / HOME_FOLDER
    try:
        _stage_stack(result, home, seed, baseline, workdir, log)
        _run_stack(result, home, seed, rerun, workdir, log)
    except StepFailed as exc:
        result.errors.append(str(exc))
        log(f"  ✗ {exc}")
    finally:  # the stacks went with `shopstream down --purge`; the course's export files go now
        shutil.rmtree(home / COURSE_EXPORT, ignore_errors=True)
    return result


def warm_up(workdir: Path, seed: int, log: Log = print) -> None:
    """An unmeasured tiny `shopstream run` with the measured runs' seed, so the first measured step does not pay for
    compiling and caching."""
    log(f"warm-up: shopstream run at SF {WARM_UP_SCALE:g} (not measured)")
    env = stack_env(workdir / HOME_FOLDER, free_port())
    with running_stack(WARM_UP_STACK, env, workdir / "logs" / "warm-up.log"):
        command = [*shopstream_command(), "run", "--stack", WARM_UP_STACK, "--scale", f"{WARM_UP_SCALE:g}"]
        command += ["--seed", str(seed), "--date", EXTRACT_DATE]
        run_process("warm-up run", command, env, workdir / "logs" / "warm-up.log")


def _stage_stack(result: ScaleResult, home: Path, seed: int, baseline: bool, workdir: Path, log: Log) -> None:
    port = free_port()
    env = stack_env(home, port)
    logs = workdir / "logs" / f"sf{result.scale:g}.log"
    with running_stack(STAGE_STACK, env, logs):
        dsn = _dsn(env, STAGE_STACK, StackNames(STAGE_STACK).postgres_database)
        result.postgres_version = server_version(dsn)

        def measure(name: str, stage: str, params: dict, into: list[Measurement]) -> None:
            log(f"  {name} …")
            into.append(run_stage(name, stage, params, env, logs))
            m = into[-1]
            log(f"  {name}: {m.rows:,} rows in {m.seconds:.2f} s ({m.rows_per_second:,.0f} rows/s)")

        stack = {"stack": STAGE_STACK}
        measure(STEP_GENERATE, "generate", {**stack, "scale": result.scale, "seed": seed}, result.steps)
        measure(STEP_EXTRACT, "extract", {**stack, "extract_date": EXTRACT_DATE}, result.steps)
        measure(STEP_LOAD, "load", {**stack, "extract_date": EXTRACT_DATE}, result.steps)
        measure(STEP_TRANSFORM, "transform", stack, result.steps)
        # The same build as a user runs it: interpreter start-up, imports and dbt's parse included.
        log(f"  {STEP_TRANSFORM_COMMAND} …")
        command = [*shopstream_command(), "transform", "--stack", STAGE_STACK, "--force"]
        seconds, peak = run_process(STEP_TRANSFORM_COMMAND, command, env, logs)
        result.steps.append(Measurement(STEP_TRANSFORM_COMMAND, result.steps[-1].rows, seconds, peak))
        log(f"  {STEP_TRANSFORM_COMMAND}: {seconds:.2f} s")
        if baseline:
            baseline_dsn = _dsn(env, STAGE_STACK, BASELINE_DATABASE, admin=True)
            ensure_database(_dsn(env, STAGE_STACK, "postgres", admin=True), BASELINE_DATABASE)
            apply_schema(baseline_dsn)
            params = {"dsn": baseline_dsn, "scale": result.scale, "seed": seed}
            measure(STEP_BASELINE_GENERATE, "baseline_generate", params, result.baseline)
            # The course's exporter reads the product's rows, so both extracts move exactly the same data.
            params = {"dsn": dsn, "out_dir": str(home / COURSE_EXPORT)}
            measure(STEP_BASELINE_EXPORT, "baseline_export", params, result.baseline)


def _run_stack(result: ScaleResult, home: Path, seed: int, rerun: bool, workdir: Path, log: Log) -> None:
    env = stack_env(home, free_port())
    logs = workdir / "logs" / f"sf{result.scale:g}.log"
    command = [*shopstream_command(), "run", "--stack", RUN_STACK, "--scale", f"{result.scale:g}"]
    command += ["--seed", str(seed), "--date", EXTRACT_DATE]
    with running_stack(RUN_STACK, env, logs):
        names = [STEP_RUN, STEP_RERUN] if rerun else [STEP_RUN]
        for name in names:
            log(f"  {name} …")
            seconds, peak = run_process(name, command, env, logs)
            result.runs.append(Measurement(name, _source_rows(env, RUN_STACK), seconds, peak))
            log(f"  {name}: {seconds:.2f} s")


@contextlib.contextmanager
def running_stack(stack: str, env: dict[str, str], log_file: Path) -> Iterator[None]:
    """`shopstream up` on enter, `shopstream down --purge` on exit, whatever happens in between."""
    Path(env[ENV_HOME]).mkdir(parents=True, exist_ok=True)
    command = shopstream_command()
    try:
        run_process(f"shopstream up --stack {stack}", [*command, "up", "--stack", stack], env, log_file)
        yield
    finally:
        run_process(f"shopstream down --stack {stack}", [*command, "down", "--stack", stack, "--purge"], env, log_file)


def stack_env(home: Path, port: int) -> dict[str, str]:
    """This process's environment, pointed at a fresh local stack folder and port and at nothing else; the user cache
    (dbt's parses) is the run's own, beside the stacks, so the run never reads nor writes the user's."""
    env = {name: value for name, value in os.environ.items() if name not in _DROPPED_VARIABLES}
    return {**env, ENV_HOME: str(home), ENV_PG_PORT: str(port), ENV_CACHE_HOME: str(home.parent / CACHE_FOLDER)}


def shopstream_command() -> list[str]:
    """The `shopstream` CLI of this virtualenv (next to the running interpreter)."""
    beside = Path(sys.executable).with_name("shopstream")
    if beside.exists():
        return [str(beside)]
    return [sys.executable, "-c", "from pipeline.cli import main; main()"]


def server_version(dsn: str) -> str:
    with open_connection(dsn) as conn:
        return str(one_row(conn.execute("SHOW server_version"))[0])


def scratch_dir(workdir: Path | None) -> tuple[Path, bool]:
    """The folder for stacks and logs, and whether the harness created it (and so deletes it at the end)."""
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
        return workdir.resolve(), False
    return Path(tempfile.mkdtemp(prefix="shopstream-bench-")), True


def _source_rows(env: dict[str, str], stack: str) -> int:
    return sum(table_counts(_dsn(env, stack, StackNames(stack).postgres_database)).values())


def _dsn(env: dict[str, str], stack: str, database: str, admin: bool = False) -> str:
    """A DSN of the stack's embedded server: its owner role, or the superuser for the baseline's own database."""
    credentials = read_credentials(Path(env[ENV_HOME]) / stack)
    if credentials is None:
        raise RuntimeError(f"stack {stack} has no PostgreSQL credentials; did `shopstream up` run?")
    user, password = (
        (SUPERUSER, credentials.superuser_password)
        if admin
        else (StackNames(stack).postgres_owner_role, credentials.owner_password)
    )
    return f"postgresql://{user}:{quote(password, safe='')}@{HOST}:{env[ENV_PG_PORT]}/{database}"
