"""The road, composed in one place: up → generate (if empty) → extract → load → transform → quality → summary.

This is the one module that chains steps. The CLI, the Airflow tasks (`pipeline.orchestrate.tasks`) and the
benchmarks call the steps and compositions here, or a single step, for a `Stack` (`pipeline.stack`); they render
what these functions return, which print nothing themselves except through `log`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.errors import ShopstreamError
from pipeline.lake_contract import validate_date
from pipeline.progress import Progress
from pipeline.settings import DBT_PROJECT_DIR, Settings

if TYPE_CHECKING:  # each step's package loads when the step runs: `shopstream transform` needs no Arrow or psycopg
    from pipeline.extract import ExtractReport
    from pipeline.load import LoadReport
    from pipeline.transform import PreparedProject
    from pipeline.transform.report import TransformReport
    from pipeline.transform.unit_tests import UnitTests

Log = Callable[[str], None]

DBT_PROJECT = DBT_PROJECT_DIR / "dbt_project.yml"
SKIP_TRANSFORM = "dbt project not found, skipping transform"
NOTHING_CHANGED = "nothing changed since the last successful build (RAW, dbt project, vars): skipped; --force rebuilds"


@dataclass(frozen=True)
class StepResult:
    name: str
    seconds: float
    detail: str


@dataclass
class StackStatus:
    """What is where, and how many rows each layer holds (None: that layer cannot be reached right now)."""

    stack: str
    origin: str
    source: str  # host:port/database, never a password
    lake_uri: str
    warehouse: str  # DuckDB file or Snowflake database
    source_rows: dict[str, int] | None = None
    lake_date: str | None = None  # the most recent extraction with a manifest
    lake_rows: dict[str, int] | None = None
    warehouse_rows: dict[str, dict[str, int]] = field(default_factory=dict)  # schema → relation → rows
    notes: list[str] = field(default_factory=list)


@dataclass
class RunSummary:
    extract_date: str
    steps: list[StepResult] = field(default_factory=list)
    extract: ExtractReport | None = None
    load: LoadReport | None = None
    transform: TransformReport | None = None  # None when dbt did not run
    status: StackStatus | None = None

    @property
    def seconds(self) -> float:
        return sum(step.seconds for step in self.steps)


def generate_if_empty(
    settings: Settings, dsn: str, scale: float, seed: int | None, progress: Progress | None = None
) -> dict[str, int] | None:
    """Fill an empty source with demo data (seed None: the stack's data variant); a source that already has data
    is left alone (None)."""
    from pipeline.generate import is_empty

    return generate_demo_data(settings, dsn, scale, seed, progress) if is_empty(dsn) else None


def generate_demo_data(
    settings: Settings, dsn: str, scale: float, seed: int | None, progress: Progress | None = None
) -> dict[str, int]:
    """Fill the empty source with demo data (seed None: the stack's data variant); rows per table."""
    from pipeline.generate import generate
    from pipeline.variant import stack_seed

    seed = stack_seed(settings) if seed is None else seed

    def table_progress(what: str, done: int, total: int) -> None:
        if progress:
            progress(f"generate {what}", done, total)

    return generate(dsn, scale=scale, seed=seed, progress=table_progress)


def transform_available() -> bool:
    """True when the dbt project is there (a trimmed checkout may ship the pipeline alone)."""
    return DBT_PROJECT.exists()


def transform(
    settings: Settings,
    progress: Progress | None = None,
    select: str | None = None,
    as_of_date: str | None = None,
    force: bool = False,
    unit_tests: UnitTests | None = None,
    prepared: PreparedProject | None = None,
) -> TransformReport | None:
    """`dbt build` of the project (None when the project is not there); skipped when nothing changed unless forced.
    Unit tests run when the project changed since they last passed (`unit_tests` ALWAYS: anyway)."""
    if not transform_available():
        return None
    from pipeline.transform import UnitTests, build

    return build(
        settings,
        select=select,
        as_of_date=as_of_date,
        progress=progress,
        force=force,
        unit_tests=unit_tests or UnitTests.AUTO,
        prepared=prepared,
    )


def docs(settings: Settings) -> Path | None:
    """The dbt documentation site of the stack (None when the dbt project is not there)."""
    if not transform_available():
        return None
    from pipeline.transform import docs as dbt_docs

    return dbt_docs(settings)


def run_all(
    settings: Settings,
    scale: float = 1.0,
    seed: int | None = None,
    extract_date: str | None = None,
    progress: Progress | None = None,
    log: Log = print,
    force: bool = False,
) -> RunSummary:
    """Run the whole road once and return what each step did. Safe to rerun: nothing is duplicated."""
    from pipeline import source
    from pipeline.extract import extract
    from pipeline.generate import is_empty
    from pipeline.load import load
    from pipeline.source.database import describe

    summary = RunSummary(extract_date=validate_date(extract_date))

    def step(name: str, action: Callable[[], Any], describe_result: Callable[[Any], str]) -> Any:
        started = time.perf_counter()
        result = action()
        summary.steps.append(StepResult(name, time.perf_counter() - started, describe_result(result)))
        return result

    dsn = step("up", lambda: source.up(settings), lambda d: f"source ready at {describe(d)}")
    # New data means a build: dbt's import and parse (seconds of pure Python) then overlap with moving the data,
    # which mostly waits on PostgreSQL, Parquet and DuckDB. On a rerun over the same data dbt may have nothing to do
    # (see pipeline.transform.fingerprint), and a parse would only compete with the extract for the CPU.
    empty = is_empty(dsn)
    prepared = _prepare_transform(settings) if empty else None
    step(
        "generate",
        lambda: generate_demo_data(settings, dsn, scale, seed, progress) if empty else None,
        lambda rows: (
            "source already has data, kept it" if rows is None else f"{sum(rows.values()):,} rows (SF {scale})"
        ),
    )
    summary.extract = step(
        "extract",
        lambda: extract(settings, summary.extract_date, progress),
        lambda r: f"{r.total_rows:,} rows → {len(r.tables)} files in {r.lake_uri}",
    )
    summary.load = step(
        "load",
        lambda: load(settings, summary.extract_date, progress),
        lambda r: (
            f"{r.rows_loaded:,} rows from {r.files_loaded} files, {r.files_skipped} already loaded"
            + (f", {len(r.quarantined)} quarantined" if r.quarantined else "")
        ),
    )
    if transform_available():
        summary.transform = step(
            "transform", lambda: transform(settings, progress, force=force, prepared=prepared), describe_transform
        )
        step("quality", lambda: write_quality_report(settings), describe_quality)
    else:
        log(SKIP_TRANSFORM)
    summary.status = stack_status(settings)
    return summary


def _prepare_transform(settings: Settings) -> PreparedProject | None:
    if not transform_available():
        return None
    from pipeline.transform import prepared_project

    return prepared_project(settings)


def write_quality_report(settings: Settings) -> Any:
    from pipeline.quality import write_report

    return write_report(settings)


def describe_quality(report: Any) -> str:
    if report is None:
        return "no data-quality mart yet"
    counts = report.counts
    return f"{counts['pass']} rules passed, {counts['warn']} warned, {counts['fail']} failed → {report.markdown_path}"


def describe_transform(report: TransformReport) -> str:
    """One line about a dbt build: models built and data/unit tests passed, warned or failed."""
    if report.unchanged:
        return NOTHING_CHANGED
    line = f"{report.models_built} models built, {report.tests_passed} tests passed"
    if report.tests_warned:
        line += f", {report.tests_warned} warned"
    if report.failed:
        line += f", {report.failed} failed"
    if report.unit_tests_passed_before:
        line += f" ({report.unit_tests_passed_before} unit tests not rerun: they passed on this project before)"
    return line


def stack_status(settings: Settings) -> StackStatus:
    """Where each layer lives and how many rows it holds, without starting or changing anything."""
    from pipeline import source
    from pipeline.lake import Lake
    from pipeline.lake_contract import latest_manifest
    from pipeline.source.database import describe
    from pipeline.warehouse import warehouse_for

    status = StackStatus(
        stack=settings.stack,
        origin=settings.origin,
        source="(not running)",
        lake_uri=settings.lake.uri,
        warehouse=warehouse_for(settings).location,
    )
    try:
        dsn = source.source_dsn(settings)
        status.source = describe(dsn)
        status.source_rows = source.table_counts(dsn)
    except ShopstreamError as exc:  # a stopped source is a normal state for `status`
        status.notes.append(f"source: {exc}")
    try:
        if manifest := latest_manifest(Lake.from_settings(settings.lake)):
            status.lake_date, status.lake_rows = manifest.extract_date, manifest.rows
    except ShopstreamError as exc:
        status.notes.append(f"lake: {exc}")
    try:
        status.warehouse_rows = warehouse_for(settings).layer_counts()
    except ShopstreamError as exc:
        status.notes.append(f"warehouse: {exc}")
    return status
