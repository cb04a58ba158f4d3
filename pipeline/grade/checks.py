"""The checks of a grade: each compares one deliverable of the student's stack with the answer key.

Every check reads, never writes: the warehouse through a read-only reader, the lake through its filesystem, the
cloud posture through read-only API calls. A check returns whether it passed, a detail a student can act on
(expected vs found, first few differences) and where to look.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.errors import first_line
from pipeline.grade.figures import MODEL_SCHEMAS, Reader, SnowflakeReader, flatten, mart_figures, mart_rows, raw_counts
from pipeline.grade.key import Key
from pipeline.grade.rubric import FIGURES_PREFIX
from pipeline.lake import Lake
from pipeline.lake_contract import MANIFEST_PREFIX, latest_manifest, partition_date
from pipeline.naming import LAKE_PREFIXES, SOURCE_TABLES, StackNames
from pipeline.settings import DuckDBWarehouse, Settings, SnowflakeWarehouse

if TYPE_CHECKING:
    from pipeline.transform import TransformReport

SHOWN = 5  # differences listed in a detail; the rest are counted
MAX_AUTO_SUSPEND_S = 300
COPY_MATCH = 0.9  # share of another key's figures a stack must match to be called a copy of it


@dataclass(frozen=True)
class Outcome:
    passed: bool | None  # None: not applicable to this stack (scores 0 of 0)
    detail: str
    where: str = ""


@dataclass
class Context:
    """What the checks share: the stack, its key, the other keys of the cohort and a read-only warehouse reader."""

    settings: Settings
    key: Key
    other_keys: dict[str, Key]
    reader: Reader | None  # None: the stack has no warehouse yet
    reader_problem: str = ""
    _cache: dict[str, Any] = field(default_factory=dict)

    @property
    def is_cloud(self) -> bool:
        return isinstance(self.settings.warehouse, SnowflakeWarehouse) or self.settings.lake.is_s3

    def once(self, name: str, compute: Callable[[], Any]) -> Any:
        if name not in self._cache:
            self._cache[name] = compute()
        return self._cache[name]

    def found_figures(self, mart: str) -> dict[str, Any] | str:
        """The mart's figures as the key defines them, or a one-line reason they cannot be read."""
        return self.once(f"figures:{mart}", lambda: _read_figures(self, mart))


class NoWarehouse(Exception):
    """The stack has no warehouse to read (reported as a failed check, not a crash)."""


def _reader(ctx: Context) -> Reader:
    if ctx.reader is None:
        raise NoWarehouse(ctx.reader_problem)
    return ctx.reader


def _read_figures(ctx: Context, mart: str) -> dict[str, Any] | str:
    expected = ctx.key["marts"][mart]
    columns = [*expected["measures"], *expected["breakdowns"]]
    try:
        rows = mart_rows(_reader(ctx), mart, columns)
    except NoWarehouse as exc:
        return str(exc)
    except Exception as exc:  # a missing mart or column: the engine's own words, first line
        return f"cannot read MARTS.{mart}: {first_line(exc)}"
    return mart_figures(columns, rows, expected["measures"], expected["breakdowns"])


# -- lake ----------------------------------------------------------------------------------------------------------
def lake_layout(ctx: Context) -> Outcome:
    lake = Lake.from_settings(ctx.settings.lake)
    where = f"{lake.uri}/raw/ (`shopstream extract`)"
    problems = []
    for table in SOURCE_TABLES:
        if not [key for key in lake.list_files(LAKE_PREFIXES[table]) if partition_date(key)]:
            problems.append(f"no dt= partition under {LAKE_PREFIXES[table]}/")
    manifest = latest_manifest(lake)
    extract_date = manifest.extract_date if manifest else None
    if manifest is None:
        problems.append(f"no manifest under {MANIFEST_PREFIX}/")
    else:
        for table in SOURCE_TABLES:
            expected, found = ctx.key["raw_rows"][table], manifest.rows.get(table)
            if found != expected:
                problems.append(f"manifest dt={extract_date}: {table} expected {expected:,} rows, found {found}")
    return _outcome(problems, f"every table partitioned, manifest of dt={extract_date} matches the key", where)


# -- RAW -----------------------------------------------------------------------------------------------------------
def raw_rows(ctx: Context) -> Outcome:
    where = "warehouse schema RAW (`shopstream load`)"
    try:
        counts = raw_counts(_reader(ctx))
    except NoWarehouse as exc:
        return Outcome(False, str(exc), where)
    except Exception as exc:
        return Outcome(False, f"cannot read RAW: {first_line(exc)}", where)
    problems = []
    for table in SOURCE_TABLES:
        expected, found = ctx.key["raw_rows"][table], counts[table]
        if found["ids"] != expected:
            problems.append(f"RAW.{table}: expected {expected:,} rows, found {found['ids']:,}")
        if found["duplicates"]:
            problems.append(f"RAW.{table}: {found['duplicates']:,} ids loaded twice from the same file")
    total = sum(ctx.key["raw_rows"].values())
    return _outcome(problems, f"{total:,} rows in {len(SOURCE_TABLES)} tables, no duplicates", where)


# -- models --------------------------------------------------------------------------------------------------------
def models_present(schema: str) -> Callable[[Context], Outcome]:
    def check(ctx: Context) -> Outcome:
        where = f"warehouse schema {schema}; dbt/models/ (`shopstream transform`)"
        try:
            found = ctx.once("columns", lambda: _reader(ctx).columns(MODEL_SCHEMAS)).get(schema, {})
        except NoWarehouse as exc:
            return Outcome(False, str(exc), where)
        expected = ctx.key["models"].get(schema, {})
        problems = []
        for model, columns in sorted(expected.items()):
            if model not in found:
                problems.append(f"{schema}.{model} missing")
            elif missing := [c for c in columns if c not in found[model]]:
                problems.append(f"{schema}.{model} lacks column(s) {', '.join(missing)}")
        return _outcome(problems, f"{len(expected)} models with their columns", where)

    return check


# -- mart figures --------------------------------------------------------------------------------------------------
def mart_figures_check(mart: str) -> Callable[[Context], Outcome]:
    def check(ctx: Context) -> Outcome:
        where = f"MARTS.{mart} (dbt/models/marts/{mart}.sql)"
        found = ctx.found_figures(mart)
        if isinstance(found, str):
            return Outcome(False, found, where)
        expected = flatten(ctx.key["marts"][mart]["figures"])
        actual = flatten(found)
        problems = [
            f"{name}: expected {_show(value)}, found {_show(actual.get(name))}"
            for name, value in expected.items()
            if actual.get(name) != value
        ]
        problems += [f"{name}: not expected, found {_show(actual[name])}" for name in actual if name not in expected]
        summary = expected.get("rows")
        return _outcome(problems, f"{len(expected)} figures equal the key ({summary:,} rows)", where)

    return check


def _show(value: Any) -> str:
    if value is None:
        return "nothing"
    return f"{value:,}" if isinstance(value, int) else f"{Decimal(value):,.2f}"


# -- dbt data tests ------------------------------------------------------------------------------------------------
def data_tests(ctx: Context) -> Outcome:
    """The repo's dbt data tests on the student's schemas (unit tests check code, not data): locally their SQL,
    compiled once by dbt, on the DuckDB file attached read-only (pipeline.grade.data_tests); on Snowflake dbt
    itself, as the grader's role (the tests only SELECT)."""
    from pipeline.transform import TransformError, TransformReport

    where = "`shopstream transform` output; dbt/models/**/_*.yml and dbt/tests/"
    try:
        if isinstance(ctx.settings.warehouse, DuckDBWarehouse):
            if not ctx.settings.warehouse.path.exists():
                return Outcome(False, ctx.reader_problem or "no warehouse", where)
            from pipeline.grade.data_tests import run_data_tests

            report = TransformReport(target="local", nodes=run_data_tests(ctx.settings.warehouse.path))
        else:
            report = _dbt_data_tests(ctx.settings)
    except TransformError as exc:
        if exc.report is None:
            return Outcome(False, str(exc), where)
        report = exc.report
    except Exception as exc:
        return Outcome(False, f"dbt could not test the stack: {first_line(exc)}", where)
    if failures := report.failures:
        return Outcome(False, f"{len(failures)} data test(s) failed: " + "; ".join(failures[:SHOWN]), where)
    return Outcome(True, f"{report.tests_passed} data tests passed", where)


def _dbt_data_tests(settings: Settings) -> TransformReport:
    """A dbt build of the data tests alone, its target and logs in a scratch folder: a Snowflake stack's tests."""
    from pipeline.transform import build

    scratch = Path(tempfile.mkdtemp(prefix="shopstream-grade-"))
    try:
        return build(
            settings.model_copy(update={"home": scratch}),
            select="resource_type:test",
            exclude="resource_type:unit_test",
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# -- copy detection ------------------------------------------------------------------------------------------------
def independent_work(ctx: Context) -> Outcome:
    copied = copied_from(ctx)
    if copied:
        return Outcome(
            False,
            f"this stack's figures equal the answer key of {', '.join(copied)}, not its own: "
            "its data was generated or copied from another stack",
            "`shopstream run --stack <yours>` generates your own data variant",
        )
    return Outcome(True, "figures are not another stack's")


def copied_from(ctx: Context) -> list[str]:
    """Other stacks of the cohort whose key this stack's figures match (and better than its own key)."""

    def compute() -> list[str]:
        found: dict[str, Any] = {}
        for mart in ctx.key["marts"]:
            figures = ctx.found_figures(mart)
            if not isinstance(figures, str):
                found.update({f"{mart}: {name}": value for name, value in flatten(figures).items()})
        if not found:
            return []
        own = _match(found, ctx.key)
        matches = {stack: _match(found, key) for stack, key in sorted(ctx.other_keys.items())}
        return [stack for stack, share in matches.items() if share >= COPY_MATCH and share > own]

    return ctx.once("copied_from", compute)


def _match(found: dict[str, Any], key: Key) -> float:
    expected = {
        f"{mart}: {name}": value
        for mart, figures in key.get("marts", {}).items()
        for name, value in flatten(figures["figures"]).items()
    }
    # row counts per group are shared by many variants (same scale, same pools): money and measures tell them apart
    telling = {name: value for name, value in expected.items() if not name.split(": ", 1)[1].startswith("rows")}
    if not telling:
        return 0.0
    return sum(found.get(name) == value for name, value in telling.items()) / len(telling)


# -- cloud posture -------------------------------------------------------------------------------------------------
def bucket_private(ctx: Context) -> Outcome:
    if not ctx.settings.lake.is_s3:
        return Outcome(None, "not applicable: the lake is not an S3 bucket")
    import boto3

    lake = ctx.settings.lake
    bucket = lake.uri.removeprefix("s3://").split("/")[0]
    options: dict[str, Any] = {"region_name": lake.region}
    if lake.endpoint_override:
        options["endpoint_url"] = lake.endpoint_override
    if lake.access_key_id and lake.secret_access_key:
        options["aws_access_key_id"] = lake.access_key_id
        options["aws_secret_access_key"] = lake.secret_access_key.get_secret_value()
    s3 = boto3.client("s3", **options)
    where = f"bucket {bucket} (infra/lake.py)"
    problems = []
    try:
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        if not rules:
            problems.append("no default encryption")
    except Exception as exc:
        problems.append(f"default encryption: {first_line(exc)}")
    try:
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        if open_ := sorted(name for name, on in block.items() if not on):
            problems.append(f"public access not fully blocked ({', '.join(open_)} off)")
    except Exception as exc:
        problems.append(f"public access block: {first_line(exc)}")
    return _outcome(problems, "encrypted, public access blocked", where)


def _snowflake_rows(ctx: Context, statement: str) -> list[dict[str, Any]]:
    reader = _reader(ctx)
    assert isinstance(reader, SnowflakeReader)
    return reader.records(statement)


def integration_scope(ctx: Context) -> Outcome:
    if not isinstance(ctx.settings.warehouse, SnowflakeWarehouse):
        return Outcome(None, "not applicable: local warehouse")
    names = StackNames(ctx.settings.stack)
    bucket = ctx.settings.lake.uri.removeprefix("s3://").split("/")[0]
    where = f"storage integration {names.storage_integration} (infra/integration.py)"
    try:
        properties = _snowflake_rows(ctx, f"DESC STORAGE INTEGRATION {names.storage_integration}")
    except Exception as exc:
        return Outcome(False, f"cannot describe the integration: {first_line(exc)}", where)
    values = {str(p.get("property", "")).upper(): str(p.get("property_value", "")) for p in properties}
    allowed = values.get("STORAGE_ALLOWED_LOCATIONS", "")
    locations = [loc.strip() for loc in allowed.split(",") if loc.strip()]
    outside = [loc for loc in locations if not loc.startswith(f"s3://{bucket}/")]
    problems = ["no allowed locations"] if not locations else [f"allows {loc}" for loc in outside]
    return _outcome(problems, f"limited to s3://{bucket}/", where)


def _stack_warehouses(ctx: Context) -> list[dict[str, Any]] | str:
    warehouse = ctx.settings.warehouse
    assert isinstance(warehouse, SnowflakeWarehouse)
    try:
        shown = _snowflake_rows(ctx, "SHOW WAREHOUSES")
    except Exception as exc:
        return f"cannot list warehouses: {first_line(exc)}"
    wanted = set(warehouse.warehouses.values())
    return [row for row in shown if str(row.get("name", "")).upper() in wanted]


def warehouses_suspend(ctx: Context) -> Outcome:
    if not isinstance(ctx.settings.warehouse, SnowflakeWarehouse):
        return Outcome(None, "not applicable: local warehouse")
    where = "warehouses of the stack (infra/warehouse.py)"
    rows = _stack_warehouses(ctx)
    if isinstance(rows, str):
        return Outcome(False, rows, where)
    problems = [f"{name} not found" for name in _missing(ctx, rows)]
    for row in rows:
        suspended = str(row.get("state", "")).upper() == "SUSPENDED"
        auto = int(row.get("auto_suspend") or 0)
        if not suspended and not 0 < auto <= MAX_AUTO_SUSPEND_S:
            problems.append(f"{row['name']} is {row.get('state')} with auto_suspend {auto or 'off'}")
    return _outcome(problems, f"suspended or auto-suspending within {MAX_AUTO_SUSPEND_S} s", where)


def resource_monitor(ctx: Context) -> Outcome:
    if not isinstance(ctx.settings.warehouse, SnowflakeWarehouse):
        return Outcome(None, "not applicable: local warehouse")
    monitor = StackNames(ctx.settings.stack).resource_monitor
    where = f"resource monitor {monitor} (infra/warehouse.py)"
    rows = _stack_warehouses(ctx)
    if isinstance(rows, str):
        return Outcome(False, rows, where)
    problems = [f"{name} not found" for name in _missing(ctx, rows)]
    problems += [
        f"{row['name']} has monitor {row.get('resource_monitor') or 'none'}"
        for row in rows
        if str(row.get("resource_monitor") or "").upper() != monitor
    ]
    return _outcome(problems, f"{monitor} attached to every warehouse", where)


def _missing(ctx: Context, rows: list[dict[str, Any]]) -> list[str]:
    assert isinstance(ctx.settings.warehouse, SnowflakeWarehouse)
    present = {str(row.get("name", "")).upper() for row in rows}
    return sorted(set(ctx.settings.warehouse.warehouses.values()) - present)


# -- registry ------------------------------------------------------------------------------------------------------
FIXED_CHECKS: dict[str, Callable[[Context], Outcome]] = {
    "lake_layout": lake_layout,
    "raw_rows": raw_rows,
    "staging_models": models_present("STAGING"),
    "core_models": models_present("CORE"),
    "marts_models": models_present("MARTS"),
    "data_tests": data_tests,
    "independent_work": independent_work,
    "cloud_bucket_private": bucket_private,
    "cloud_integration_scope": integration_scope,
    "cloud_warehouses_suspend": warehouses_suspend,
    "cloud_resource_monitor": resource_monitor,
}


def check_function(check_id: str, key: Key) -> Callable[[Context], Outcome] | None:
    if check_id in FIXED_CHECKS:
        return FIXED_CHECKS[check_id]
    mart = check_id.removeprefix(FIGURES_PREFIX)
    if check_id.startswith(FIGURES_PREFIX) and mart in key["marts"]:
        return mart_figures_check(mart)
    return None


def _outcome(problems: list[str], ok: str, where: str) -> Outcome:
    if not problems:
        return Outcome(True, ok, where)
    more = f" (and {len(problems) - SHOWN} more)" if len(problems) > SHOWN else ""
    return Outcome(False, "; ".join(problems[:SHOWN]) + more, where)
