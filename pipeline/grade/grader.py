"""Grade one stack against its answer key and write its reports (`<stack>.json`, `<stack>.md`).

Identical stack state gives identical reports: checks run in the rubric's order, details are sorted, and the one
field allowed to differ is `graded_at`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pipeline.errors import ShopstreamError, first_line
from pipeline.grade.checks import Context, check_function, copied_from
from pipeline.grade.figures import Reader, open_reader
from pipeline.grade.key import Key, read_key
from pipeline.grade.rubric import ANY_MART, FIGURES_PREFIX, Rubric
from pipeline.settings import DuckDBWarehouse, Settings


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    points: float
    max_points: float
    passed: bool | None  # None: not applicable to this stack
    detail: str
    where: str = ""


@dataclass
class Grade:
    stack: str
    score: float
    max_score: float
    checks: list[CheckResult]
    copied_from: list[str] = field(default_factory=list)
    warehouse: str = ""
    key: dict = field(default_factory=dict)  # which key: scale and road digest (never the cohort's salt)
    graded_at: str = ""

    def as_json(self) -> dict:
        return asdict(self)


def rubric_checks(rubric: Rubric, key: Key) -> list[str]:
    """Check ids to run, in rubric order; marts of the key without an entry of their own come after the named
    figures checks (scored by `figures.*`)."""
    ids = [entry.id for entry in rubric.checks if entry.id != ANY_MART]
    named = {i.removeprefix(FIGURES_PREFIX) for i in ids if i.startswith(FIGURES_PREFIX)}
    extra = [f"{FIGURES_PREFIX}{mart}" for mart in sorted(key["marts"]) if mart not in named]
    if extra:
        last_figures = max((n for n, i in enumerate(ids) if i.startswith(FIGURES_PREFIX)), default=len(ids) - 1)
        ids[last_figures + 1 : last_figures + 1] = extra
    return ids


def grade_stack(settings: Settings, key: Key, rubric: Rubric, other_keys: dict[str, Key] | None = None) -> Grade:
    """Score the stack's lake and warehouse against `key` (read-only); `other_keys` feed copy detection."""
    others = {stack: other for stack, other in (other_keys or {}).items() if stack != settings.stack}
    with _warehouse_reader(settings) as (reader, problem):
        ctx = Context(settings=settings, key=key, other_keys=others, reader=reader, reader_problem=problem)
        results = []
        for check_id in rubric_checks(rubric, key):
            entry = rubric.entry(check_id)
            function = check_function(check_id, key)
            if entry is None or not entry.enabled:
                continue
            outcome_passed: bool | None  # None: the check does not apply to this stack
            if function is None:  # a figures entry for a mart the key does not have
                outcome_passed, detail, where = False, f"the answer key has no mart {check_id}", ""
            else:
                outcome = function(ctx)
                outcome_passed, detail, where = outcome.passed, outcome.detail, outcome.where
            max_points = 0.0 if outcome_passed is None else entry.points
            points = max_points if outcome_passed else 0.0
            results.append(CheckResult(check_id, entry.title, points, max_points, outcome_passed, detail, where))
        copies = copied_from(ctx)
    return Grade(
        stack=settings.stack,
        score=sum(r.points for r in results),
        max_score=sum(r.max_points for r in results),
        checks=results,
        copied_from=copies,
        warehouse=settings.warehouse.kind,
        key={"scale": key["scale"], "road": key["road"]},
        graded_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


@contextmanager
def _warehouse_reader(settings: Settings) -> Iterator[tuple[Reader | None, str]]:
    """A read-only warehouse reader, or (None, why) when a local stack has no warehouse file yet."""
    warehouse = settings.warehouse
    if isinstance(warehouse, DuckDBWarehouse) and not warehouse.path.exists():
        yield None, f"no warehouse at {warehouse.path}: run `shopstream load --stack {settings.stack}`"
        return
    try:
        opened = open_reader(settings)
        reader = opened.__enter__()
    except ShopstreamError:
        raise
    except Exception as exc:  # a file locked by a writer, a corrupt file: grading cannot run
        raise ShopstreamError(
            f"cannot open the warehouse of stack {settings.stack!r} read-only: {first_line(exc)}"
        ) from None
    try:
        yield reader, ""
    finally:
        opened.__exit__(None, None, None)


def load_other_keys(keys_dir: Path, stack: str) -> dict[str, Key]:
    """Every other key of the cohort (for copy detection)."""
    return {path.stem: read_key(path) for path in sorted(Path(keys_dir).glob("*.json")) if path.stem != stack}


# -- reports -------------------------------------------------------------------------------------------------------
def write_reports(grade: Grade, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / f"{grade.stack}.json", out_dir / f"{grade.stack}.md"
    json_path.write_text(json.dumps(grade.as_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    md_path.write_text(markdown_report(grade))
    return json_path, md_path


def _points(value: float) -> str:
    return f"{value:g}"


def markdown_report(grade: Grade) -> str:
    """The report a student reads: the score, every check, and for each failure what was expected and where."""
    lines = [
        f"# Grade of stack `{grade.stack}`: {_points(grade.score)} / {_points(grade.max_score)}",
        "",
        f"Warehouse: {grade.warehouse}. Graded at {grade.graded_at}.",
        "",
    ]
    if grade.copied_from:
        lines += [
            f"> **Copy detected:** this stack's figures equal the answer key of {', '.join(grade.copied_from)}, "
            "not its own.",
            "",
        ]
    lines += ["| | Check | Points | Result |", "|---|---|---:|---|"]
    for check in grade.checks:
        mark = {True: "✅", False: "❌", None: "—"}[check.passed]
        result = check.detail if check.passed is not False else "see below"
        lines.append(
            f"| {mark} | {check.title} (`{check.id}`) | {_points(check.points)} / "
            f"{_points(check.max_points)} | {_cell(result)} |"
        )
    failed = [check for check in grade.checks if check.passed is False]
    if failed:
        lines += ["", "## What to fix", ""]
        for check in failed:
            lines += [f"### {check.title} (`{check.id}`, {_points(check.max_points)} points)", ""]
            lines += [f"- {part}" for part in check.detail.split("; ")]
            if check.where:
                lines.append(f"- Where to look: {check.where}")
            lines.append("")
    else:
        lines += ["", "Every check passed."]
    return "\n".join(lines).rstrip() + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
