"""`shopstream`: the command line of the whole road (PostgreSQL → lake → warehouse → dbt → BI).

Every command takes `--stack NAME` (default `dev`, or $SHOPSTREAM_STACK), `--outputs FILE` (a cloud stack's
Pulumi outputs) and `--local` (the local twins, whatever Pulumi knows); `pipeline.settings` gives the precedence.
Errors a user can act on print as one red line on stderr with a non-zero exit code; set
SHOPSTREAM_DEBUG=1 to see the traceback instead.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import functools
import math
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipeline import stack as stacks
from pipeline.errors import WAREHOUSE_IN_USE, ResourceError, ShopstreamError, is_duckdb_lock
from pipeline.naming import SOURCE_TABLES
from pipeline.runs import RECORDED_COMMANDS, RunRecord, record_command
from pipeline.settings import ENV_DEBUG, ENV_LOCAL, ENV_STACK, Environment, Settings
from pipeline.transform.unit_tests import UnitTests

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

app = typer.Typer(
    name="shopstream",
    help="ShopStream Stack: PostgreSQL → Parquet lake → warehouse → dbt → BI, locally or on a cloud stack.",
    epilog="Start here: [bold]shopstream run[/] (the whole local road at SF1), then [bold]shopstream status[/].",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
bi_app = typer.Typer(help="Business-intelligence helpers (Power BI connection files).", no_args_is_help=True)
app.add_typer(bi_app, name="bi")
source_app = typer.Typer(
    help="The stack's source PostgreSQL (connection string for psql, DBeaver).", no_args_is_help=True
)
app.add_typer(source_app, name="source")
lake_app = typer.Typer(help="Lake housekeeping (undo a load).", no_args_is_help=True)
app.add_typer(lake_app, name="lake")

Stack = Annotated[
    str,
    typer.Option(
        "--stack",
        envvar=ENV_STACK,
        help="Stack name (default dev): a cloud stack Pulumi knows, or a local stack set up by `up` or `run`.",
    ),
]
Outputs = Annotated[
    Path | None,
    typer.Option("--outputs", help="JSON file of the stack's Pulumi outputs (use a cloud stack without Pulumi)."),
]
Local = Annotated[
    bool,
    typer.Option(
        "--local",
        envvar=ENV_LOCAL,
        help="Run on the stack's local twins (embedded PostgreSQL, lake directory, DuckDB), never the cloud stack.",
    ),
]
AcceptQuarantine = Annotated[
    bool,
    typer.Option("--accept-quarantine", help="Exit 0 even when files were quarantined (default: exit 3)."),
]
DateOption = Annotated[str | None, typer.Option("--date", help="Extraction date YYYY-MM-DD (default: today, UTC).")]
SEED_HELP = "Random seed (default: the stack's data variant, from its name and $SHOPSTREAM_COURSE_SALT)."
Force = Annotated[bool, typer.Option("--force", help="Run dbt even when nothing changed since the last build.")]


# -- errors: one line, no traceback ------------------------------------------------------------------------------
def _one_line(exc: BaseException) -> tuple[str, int] | None:
    """The message and exit code for errors a user can act on; None for real bugs."""
    if isinstance(exc, ShopstreamError):
        return str(exc), exc.exit_code
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return "disk full: free some space and rerun", ResourceError.exit_code
    if is_duckdb_lock(exc):
        return WAREHOUSE_IN_USE, ResourceError.exit_code
    return None


# Commands whose last long step is a dbt build: in the `shopstream` program (`main`), nothing after it needs the
# memory the garbage collector would spend time freeing (see pipeline.transform.runner.exit_after_dbt).
ENDS_WITH_DBT_BUILD = frozenset({"transform", "run"})
_process_ends_with_command = False  # set by `main`: the process exits when its one command returns


def friendly_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # Files a command creates (lake, warehouse, logs) hold personal data: readable by their owner only.
        os.umask(0o077)
        if _process_ends_with_command and command.__name__ in ENDS_WITH_DBT_BUILD:
            from pipeline.transform.runner import exit_after_dbt

            exit_after_dbt()
        run = _start_run(command.__name__)
        try:
            result = command(*args, **kwargs)
        except typer.Exit as stop:
            _finish_run(run, kwargs, stop.exit_code)
            raise
        except typer.Abort:
            raise
        except KeyboardInterrupt:
            err.print("[red]interrupted[/]", soft_wrap=True)
            _finish_run(run, kwargs, 130, "interrupted")
            raise typer.Exit(130) from None
        except Exception as exc:
            if Environment.read().debug:
                raise
            known = _one_line(exc)
            message, code = known or (f"unexpected {type(exc).__name__}: {exc} (set {ENV_DEBUG}=1 for details)", 1)
            message = " ".join(message.split())
            # The message quotes user input (a stack name, a date, a path): never let it be read as markup.
            err.print(f"[red]error:[/] {escape(message)}", soft_wrap=True, markup=True)
            _finish_run(run, kwargs, code, message)
            raise typer.Exit(code) from None
        _finish_run(run, kwargs, 0)
        return result

    return wrapper


_current_run: RunRecord | None = None  # the run history row of the command being executed


def _start_run(name: str) -> RunRecord | None:
    global _current_run
    _current_run = RunRecord(origin="cli", command=name) if name in RECORDED_COMMANDS else None
    return _current_run


def _finish_run(run: RunRecord | None, kwargs: dict[str, Any], code: int | None, error: str | None = None) -> None:
    if run is not None and isinstance(kwargs.get("stack"), str) and kwargs.get("outputs") is None:
        record_command(kwargs["stack"], run.command, run.finish(code or 0, error))


def _settings(stack: str, outputs: Path | None, local: bool = False, *, create: bool = False) -> Settings:
    """The settings of the stack the shared options name (`pipeline.stack.Stack.open`)."""
    return stacks.Stack.open(stack, outputs, local=local, create=create).settings


class StepProgress:
    """One rich progress bar per step, fed by the pipeline's (what, done, total) callbacks."""

    def __init__(self) -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> StepProgress:
        self._progress.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is not None:  # a failed step: erase the bars so its one-line error stands alone
            self._progress.live.transient = True
        self._progress.stop()

    def erase(self) -> None:
        """Clear the bars when the step ends, so the failure line that follows stands alone."""
        self._progress.live.transient = True

    def __call__(self, what: str, done: int, total: int) -> None:
        step = what.split()[0]
        size = total if total > 0 else None  # unknown size: a pulsing bar
        if step not in self._tasks:
            self._tasks[step] = self._progress.add_task(what, total=size)
        self._progress.update(self._tasks[step], description=what, completed=done, total=size)


# -- commands ------------------------------------------------------------------------------------------------------
@app.command(epilog="Examples:\n\n  shopstream up\n\n  shopstream up --stack alice (a second local stack)")
@friendly_errors
def up(stack: Stack = "dev", outputs: Outputs = None, local: Local = False) -> None:
    """Start the stack's source PostgreSQL (creating a new local stack if needed) and its schema."""
    from pipeline import source
    from pipeline.source.database import describe

    settings = _settings(stack, outputs, local, create=True)
    dsn = source.up(settings)
    where = f"{describe(dsn)} (data in {settings.home})"
    out.print(f"[green]✓[/] stack [bold]{stack}[/] source ready at {escape(where)}")


@app.command(epilog="Examples:\n\n  shopstream down\n\n  shopstream down --purge (also delete its data)")
@friendly_errors
def down(
    stack: Stack = "dev",
    outputs: Outputs = None,
    local: Local = False,
    purge: Annotated[
        bool, typer.Option("--purge", help="Also delete the stack folder: data, local lake, DuckDB.")
    ] = False,
) -> None:
    """Stop the stack's embedded PostgreSQL; --purge also deletes everything the local stack stored."""
    from pipeline import source

    settings = _settings(stack, outputs, local)
    source.down(settings, purge=purge)
    deleted = escape(f", {settings.home} deleted") if purge else ""
    out.print(f"[green]✓[/] stack [bold]{stack}[/] stopped{deleted}")


@app.command(epilog="Examples:\n\n  shopstream generate\n\n  shopstream generate --scale 0.1 --seed 7")
@friendly_errors
def generate(
    stack: Stack = "dev",
    outputs: Outputs = None,
    local: Local = False,
    scale: Annotated[float, typer.Option("--scale", help="Scale factor: SF1 ≈ the course's demo volume.")] = 1.0,
    seed: Annotated[int | None, typer.Option("--seed", help=SEED_HELP)] = None,
) -> None:
    """Fill the source with demo data (users, products, orders, items, events, CRM contacts)."""
    from pipeline import source
    from pipeline.generate import generate as generate_data
    from pipeline.variant import stack_seed

    _check_scale(scale)
    settings = _settings(stack, outputs, local)
    check_capacity(scale, settings.home)
    with StepProgress() as progress:
        seed = stack_seed(settings) if seed is None else seed
        rows = generate_data(source.source_dsn(settings), scale=scale, seed=seed, progress=progress)
    out.print(f"[green]✓[/] generated {sum(rows.values()):,} rows: " + ", ".join(f"{t} {n:,}" for t, n in rows.items()))


@app.command(epilog="Examples:\n\n  shopstream extract\n\n  shopstream extract --date 2026-11-24")
@friendly_errors
def extract(stack: Stack = "dev", outputs: Outputs = None, local: Local = False, date: DateOption = None) -> None:
    """Snapshot the six source tables into the lake as Parquet (one partition per date, plus a manifest)."""
    from pipeline.extract import extract as extract_tables
    from pipeline.lake_contract import validate_date

    extract_date = validate_date(date)
    settings = _settings(stack, outputs, local)
    with StepProgress() as progress:
        report = extract_tables(settings, extract_date, progress)
    out.print(
        f"[green]✓[/] extracted {report.total_rows:,} rows for {report.extract_date} into {escape(report.lake_uri)} "
        f"in {report.seconds:.1f}s ({report.total_rows / max(report.seconds, 1e-9):,.0f} rows/s)",
        soft_wrap=True,
    )


@app.command(epilog="Examples:\n\n  shopstream load\n\n  shopstream load --date 2026-11-24")
@friendly_errors
def load(
    stack: Stack = "dev",
    outputs: Outputs = None,
    local: Local = False,
    date: Annotated[
        str | None, typer.Option("--date", help="Load one date (default: every file not loaded yet).")
    ] = None,
    accept_quarantine: AcceptQuarantine = False,
) -> None:
    """Load lake files into the warehouse's RAW schema; files already loaded are skipped, bad files quarantined."""
    from pipeline.lake_contract import validate_date
    from pipeline.load import check_quarantine
    from pipeline.load import load as load_files

    extract_date = validate_date(date) if date is not None else None
    settings = _settings(stack, outputs, local)
    with StepProgress() as progress:
        report = load_files(settings, extract_date, progress)
        if report.quarantined and not accept_quarantine:
            progress.erase()
    _print_load(report)
    check_quarantine(report, accept_quarantine)


@app.command(
    epilog="Examples:\n\n  shopstream transform\n\n  shopstream transform --select mart_customer_ltv+\n\n  "
    "shopstream transform --as-of-date 2025-06-30\n\n  shopstream transform --stack alice (dbt-snowflake)"
)
@friendly_errors
def transform(
    stack: Stack = "dev",
    outputs: Outputs = None,
    local: Local = False,
    select: Annotated[
        str | None, typer.Option("--select", "-s", help="dbt selector, e.g. `stg_orders`, `+mart_sales_overview`.")
    ] = None,
    as_of_date: Annotated[
        str | None,
        typer.Option("--as-of-date", help="The marts' 'today' (YYYY-MM-DD); default: the last day in the data."),
    ] = None,
    force: Force = False,
    unit_tests: Annotated[
        UnitTests,
        typer.Option(
            "--unit-tests",
            help="`auto`: run dbt's unit tests only when the project changed since they last passed on this engine "
            "(they test code, not data); `always`: run them anyway.",
        ),
    ] = UnitTests.AUTO,
) -> None:
    """Run `dbt build` (models and tests: RAW → STAGING → CORE → MARTS)."""
    from pipeline.run import SKIP_TRANSFORM, describe_transform, transform_available
    from pipeline.run import transform as run_transform

    settings = _settings(stack, outputs, local)
    if not transform_available():
        out.print(f"[yellow]{SKIP_TRANSFORM}[/]")
        return
    report = run_transform(settings, select=select, as_of_date=as_of_date, force=force, unit_tests=unit_tests)
    if report is not None:  # None only without the dbt project, checked above
        out.print(f"[green]✓[/] {describe_transform(report)}")


@app.command(epilog="Example:\n\n  shopstream docs (then open the printed index.html)")
@friendly_errors
def docs(stack: Stack = "dev", outputs: Outputs = None, local: Local = False) -> None:
    """Generate the dbt documentation site (lineage of every model)."""
    from pipeline.run import docs as dbt_docs

    result = dbt_docs(_settings(stack, outputs, local))
    out.print(f"[green]✓[/] dbt docs generated{f': {result}' if result else ''}")


@app.command(
    epilog="Examples:\n\n  shopstream run\n\n  shopstream run --scale 0.1 --seed 7\n\n  "
    "shopstream run --stack alice --date 2026-11-24\n\n  SHOPSTREAM_LAKE_URI=s3://bucket shopstream run"
)
@friendly_errors
def run(
    stack: Stack = "dev",
    outputs: Outputs = None,
    local: Local = False,
    scale: Annotated[
        float, typer.Option("--scale", help="Scale factor of generated data (if the source is empty).")
    ] = 1.0,
    seed: Annotated[int | None, typer.Option("--seed", help=SEED_HELP)] = None,
    date: DateOption = None,
    accept_quarantine: AcceptQuarantine = False,
    predict: Annotated[bool, typer.Option("--predict", help=PREDICT_OPTION_HELP)] = False,
    force: Force = False,
) -> None:
    """The whole road: up → generate (if empty) → extract → load → dbt build → summary. Safe to rerun."""
    from pipeline.lake_contract import validate_date
    from pipeline.run import run_all

    _check_scale(scale)
    extract_date = validate_date(date)
    settings = _settings(stack, outputs, local, create=True)
    check_capacity(scale, settings.home)
    with StepProgress() as progress:
        log = lambda m: err.print(f"[yellow]{escape(m)}[/]")  # noqa: E731
        summary = run_all(settings, scale, seed, extract_date, progress=progress, log=log, force=force)
        if summary.load is not None and summary.load.quarantined and not accept_quarantine:
            progress.erase()
        prediction = predict_step(settings, summary, progress) if predict else None
    if _current_run is not None:
        _current_run.add_summary(summary)
    _print_steps(summary)
    if summary.load is not None and (summary.load.quarantined or summary.load.unknown or summary.load.unfinished):
        _print_load(summary.load)
    if summary.transform is not None:
        _print_transform(summary.transform)
    _print_status(summary.status)
    if prediction is not None:
        print_prediction(prediction)
    if summary.load is not None:
        from pipeline.load import check_quarantine

        check_quarantine(summary.load, accept_quarantine)


@app.command(epilog="Examples:\n\n  shopstream status\n\n  shopstream status --stack alice")
@friendly_errors
def status(stack: Stack = "dev", outputs: Outputs = None, local: Local = False) -> None:
    """Show what is where: source, lake, warehouse, and rows in each layer."""
    from pipeline.run import stack_status

    _print_status(stack_status(_settings(stack, outputs, local)))


@app.command(epilog="Examples:\n\n  shopstream dashboard\n\n  shopstream dashboard --stack alice --port 8502")
@friendly_errors
def dashboard(
    stack: Stack = "dev",
    outputs: Outputs = None,
    local: Local = False,
    port: Annotated[int, typer.Option("--port", min=1024, max=65535, help="TCP port on 127.0.0.1.")] = 8501,
) -> None:
    """Serve the BI dashboard (Streamlit) on the stack's marts at http://127.0.0.1:PORT until Ctrl+C."""
    from dashboard.serve import check_can_serve, serve

    settings = _settings(stack, outputs, local)
    check_can_serve(port)
    out.print(f"[green]✓[/] dashboard of stack [bold]{stack}[/] at http://127.0.0.1:{port} (Ctrl+C to stop)")
    code = serve(settings, port, outputs)
    if code:
        raise typer.Exit(code)


@app.command(epilog="Examples:\n\n  shopstream airflow\n\n  shopstream airflow --stack alice --port 8081")
@friendly_errors
def airflow(
    stack: Stack = "dev",
    outputs: Outputs = None,
    local: Local = False,
    port: Annotated[int, typer.Option("--port", help="Port of the Airflow UI on 127.0.0.1.")] = 8080,
    parallelism: Annotated[int, typer.Option("--parallelism", help="Task slots (Airflow defaults to 32).")] = 4,
) -> None:
    """Start Airflow (`airflow standalone`) on 127.0.0.1 with this repo's DAGs; Ctrl+C stops it."""
    import subprocess

    from pipeline.orchestrate import local_airflow as orchestrate
    from pipeline.processes import die_with_parent

    settings = _settings(stack, outputs, local, create=True)
    env = orchestrate.airflow_environment(settings, port=port, parallelism=parallelism)
    with err.status("parsing the dbt project and migrating Airflow's database…"):
        orchestrate.prepare_airflow(settings, env)
    out.print(f"[green]✓[/] Airflow for stack [bold]{stack}[/] at http://{orchestrate.AIRFLOW_HOST}:{port}")
    out.print(f"  AIRFLOW_HOME {env['AIRFLOW_HOME']}; admin password in {orchestrate.admin_password_file(settings)}")
    try:
        subprocess.run(
            [*orchestrate.airflow_command("airflow"), "standalone"],
            env={**os.environ, **env},
            check=False,
            preexec_fn=die_with_parent(),
        )
    except KeyboardInterrupt:
        out.print("Airflow stopped")


@bi_app.command("pbids", epilog="Examples:\n\n  shopstream bi pbids\n\n  shopstream bi pbids --out shopstream.pbids")
@friendly_errors
def bi_pbids(
    stack: Stack = "dev",
    outputs: Outputs = None,
    local: Local = False,
    out_file: Annotated[Path | None, typer.Option("--out", help="Where to write the .pbids file.")] = None,
) -> None:
    """Write a Power BI connection file (.pbids) for the stack's warehouse."""
    from pipeline.serve.pbids import write_pbids

    settings = _settings(stack, outputs, local)
    path = write_pbids(settings, out_file or Path(f"shopstream_{settings.stack}.pbids"))
    out.print(f"[green]✓[/] wrote {path}: open it in Power BI Desktop")


@source_app.command(
    "dsn", epilog='Examples:\n\n  shopstream source dsn\n\n  psql "$(shopstream source dsn --show-password)"'
)
@friendly_errors
def source_dsn(
    stack: Stack = "dev",
    outputs: Outputs = None,
    local: Local = False,
    show_password: Annotated[bool, typer.Option("--show-password", help="Print the password instead of ***.")] = False,
) -> None:
    """Print the connection string of the stack's source database (as its owner role, not the superuser)."""
    from pipeline import source

    out.print(escape(source.display_dsn(_settings(stack, outputs, local), show_password)), soft_wrap=True)


@lake_app.command(
    "unload",
    epilog="Examples:\n\n  shopstream lake unload raw/postgres/orders/dt=2026-11-24/part-0000.parquet\n\n"
    "  shopstream lake unload --date 2026-11-24 --quarantine",
)
@friendly_errors
def lake_unload(
    keys: Annotated[list[str] | None, typer.Argument(help="Lake keys of loaded files, as `load` prints them.")] = None,
    stack: Stack = "dev",
    outputs: Outputs = None,
    local: Local = False,
    date: Annotated[str | None, typer.Option("--date", help="Unload every file of this extraction date.")] = None,
    quarantine: Annotated[
        bool, typer.Option("--quarantine", help="Also move the files to quarantine/ so `load` skips them.")
    ] = False,
) -> None:
    """Remove the rows that lake files put into RAW (undo a load); the next `load` loads them again."""
    from pipeline.load.unload import unload

    for done in unload(_settings(stack, outputs, local), keys or [], date, quarantine):
        moved = f", moved to {done.quarantined_as}" if done.quarantined_as else ""
        out.print(escape(f"✓ unloaded {done.rows:,} rows of {done.key} from RAW.{done.table}{moved}"), soft_wrap=True)


from pipeline.predict.command import EPILOG as PREDICT_EPILOG  # noqa: E402 (uses the options defined above)
from pipeline.predict.command import PREDICT_OPTION_HELP, predict_step  # noqa: E402
from pipeline.predict.command import predict as predict_command  # noqa: E402
from pipeline.predict.command import print_report as print_prediction  # noqa: E402

app.command("predict", epilog=PREDICT_EPILOG)(predict_command)

from pipeline.stream.cli import EPILOG as _STREAM_EPILOG  # noqa: E402
from pipeline.stream.cli import stream as _stream  # noqa: E402

app.command("stream", epilog=_STREAM_EPILOG)(friendly_errors(_stream))


# -- rendering -----------------------------------------------------------------------------------------------------
def _check_scale(scale: float) -> None:
    if not scale > 0 or not math.isfinite(scale):
        raise ShopstreamError(f"--scale must be positive (got {scale:g}); e.g. --scale 0.1 or --scale 1")


def check_capacity(scale: float, home: Path) -> None:
    from pipeline.generate.capacity import check_capacity as check

    check(scale, home)


def _print_load(report: Any) -> None:
    out.print(
        f"[green]✓[/] loaded {report.rows_loaded:,} rows from {report.files_loaded} files into {report.warehouse}; "
        f"{report.files_skipped} already loaded, {len(report.quarantined)} quarantined",
        soft_wrap=True,
    )
    for q in report.quarantined:
        out.print(f"  [yellow]quarantined[/] {escape(f'{q.key} → {q.quarantined_as}: {q.reason}')}", soft_wrap=True)
    for problem in report.bad_rows:
        out.print(f"  [yellow]bad row[/] {escape(problem)}", soft_wrap=True)
    for partition in getattr(report, "unfinished", []):
        out.print(f"  [yellow]not loaded[/] {escape(partition)}: its extraction did not finish (no manifest)")
    for key in getattr(report, "unknown", []):
        out.print(f"  [yellow]unknown file[/] {escape(key)}: not Parquet, left in place and not loaded")


def _print_steps(summary: Any) -> None:
    table = Table(title=f"Run {summary.extract_date}", title_justify="left")
    table.add_column("step")
    table.add_column("seconds", justify="right")
    table.add_column("result")
    for step in summary.steps:
        table.add_row(step.name, f"{step.seconds:.1f}", step.detail)
    table.add_row("[bold]total[/]", f"[bold]{summary.seconds:.1f}[/]", "")
    out.print(table)


def _print_transform(report: Any) -> None:
    for failure in getattr(report, "failures", None) or []:
        out.print(f"  [red]failed[/] {escape(str(failure))}", soft_wrap=True)


def _print_status(status: Any) -> None:
    wh = status.warehouse_rows
    table = Table(title=f"Stack {status.stack} — rows per layer", title_justify="left")
    table.add_column("table")
    table.add_column("source", justify="right")
    table.add_column(f"lake {status.lake_date or ''}".strip(), justify="right")
    table.add_column("RAW", justify="right")

    def cell(value: int | None) -> str:
        return "—" if value is None else f"{value:,}"

    for name in SOURCE_TABLES:
        table.add_row(
            name,
            cell((status.source_rows or {}).get(name)),
            cell((status.lake_rows or {}).get(name)),
            cell(wh.get("RAW", {}).get(name)),
        )
    out.print(table)
    models = [
        (schema, name, rows) for schema in ("STAGING", "CORE", "MARTS") for name, rows in wh.get(schema, {}).items()
    ]
    if models:
        model_table = Table(title="Models", title_justify="left")
        for column in ("schema", "model", "rows"):
            model_table.add_column(column, justify="right" if column == "rows" else "left")
        for schema, name, rows in models:
            model_table.add_row(schema, name, f"{rows:,}")
        out.print(model_table)
    out.print(f"source     {escape(status.source)}", soft_wrap=True)
    out.print(f"lake       {escape(status.lake_uri)}", soft_wrap=True)
    out.print(f"warehouse  {escape(status.warehouse)}", soft_wrap=True)
    out.print(f"settings   {escape(status.origin)}", soft_wrap=True)
    for note in status.notes:
        out.print(f"[dim]{escape(note)}[/]", soft_wrap=True)


# -- sub-command groups defined in their own packages (imported last: they use the helpers above) -------------------
from pipeline.classroom.cli import classroom_app  # noqa: E402
from pipeline.grade import classroom as _classroom_grade  # noqa: E402, F401  (adds `classroom grade`)
from pipeline.grade.cli import grade_app  # noqa: E402

app.add_typer(classroom_app, name="classroom")
app.add_typer(grade_app, name="grade")

# Commands defined in their own modules register themselves on `app` when imported.
from pipeline.privacy import cli as _privacy_cli  # noqa: E402, F401
from pipeline.quality import cli as _quality_cli  # noqa: E402, F401


def main() -> None:
    """The `shopstream` program: run the command, then exit without tearing the interpreter down.

    After a build the process holds dbt's parsed project and DuckDB's bindings: freeing those objects one by one at
    exit takes most of a second and changes nothing, as every command closes its files and connections before it
    returns. So the exit handlers run (log handlers flush there), the output is flushed, and the process ends. If a
    thread of the command's is still working, the interpreter exits as usual instead: it waits for that thread.
    """
    global _process_ends_with_command
    _process_ends_with_command = True
    try:
        app()
        code = 0
    except SystemExit as stop:
        code = _exit_code(stop.code)
    others = [thread for thread in threading.enumerate() if thread is not threading.main_thread()]
    if any(thread.is_alive() and not thread.daemon for thread in others):
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError):  # a reader that went away (`shopstream status | head -1`)
            stream.flush()
    os._exit(code)


def _exit_code(code: object) -> int:
    """sys.exit's convention: None is success, an int is the code, anything else is printed and means failure."""
    if code is None or isinstance(code, int):
        return code or 0
    print(code, file=sys.stderr)
    return 1
