"""Grade a whole class: every student's key (built once, cached), every stack graded, one summary.

`grade_cohort` is what `shopstream grade class` (and a classroom roster) calls. It writes each student's reports,
`grades.csv` (one row per student, one column per check) and `overview.md` (the score distribution, each
check's pass rate, copies detected). A student whose stack cannot be graded gets a row with the reason; the
others are still graded.
"""

from __future__ import annotations

import csv
import statistics
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import ShopstreamError
from pipeline.grade.grader import Grade, grade_stack, write_reports
from pipeline.grade.key import Key, ensure_key, one_server_for_keys, read_key
from pipeline.grade.rubric import Rubric
from pipeline.settings import Settings, resolve_settings
from pipeline.variant import variant_seed

Log = Callable[[str], None]


@dataclass(frozen=True)
class Student:
    stack: str
    student_id: str = ""  # defaults to the stack name
    outputs: Path | None = None  # a cloud stack's outputs file

    @property
    def id(self) -> str:
        return self.student_id or self.stack


@dataclass
class CohortResult:
    grades: dict[str, Grade] = field(default_factory=dict)  # student id → grade
    errors: dict[str, str] = field(default_factory=dict)  # student id → why it could not be graded
    csv_path: Path | None = None
    overview_path: Path | None = None


def seed_for(settings: Settings, salt: str | None) -> int:
    """The stack's variant: the seed its outputs carry, else the one derived from its name and the salt."""
    return settings.data_variant_seed if settings.data_variant_seed is not None else variant_seed(settings.stack, salt)


def grade_cohort(
    students: Sequence[Student],
    *,
    cohort: str,
    salt: str | None,
    scale: float,
    rubric: Rubric,
    keys_dir: Path,
    out_dir: Path,
    parallel: int = 1,
    settings_for: Callable[[Student], Settings] | None = None,
    log: Log | None = None,
) -> CohortResult:
    """Build missing keys, grade every student (up to `parallel` at once) and write the class summary."""
    resolve = settings_for or (lambda s: resolve_settings(s.stack, s.outputs))
    result = CohortResult()
    settings: dict[str, Settings] = {}
    for student in students:
        try:
            settings[student.id] = resolve(student)
        except ShopstreamError as exc:
            result.errors[student.id] = str(exc)
    keys: dict[str, Key] = {}
    with one_server_for_keys():  # keys one by one, each the reference road on one scratch PostgreSQL, then dbt
        for student in students:
            if student.id in settings:
                if log:
                    log(f"answer key of {student.stack}")
                stack_settings = settings[student.id]
                keys[student.stack] = ensure_key(student.stack, seed_for(stack_settings, salt), scale, keys_dir)
    others = {path.stem: read_key(path) for path in sorted(Path(keys_dir).glob("*.json"))}

    def grade_one(student: Student) -> tuple[str, Grade | str]:
        try:
            grade = grade_stack(settings[student.id], keys[student.stack], rubric, others)
        except ShopstreamError as exc:
            return student.id, str(exc)
        write_reports(grade, out_dir)
        if log:
            log(f"graded {student.stack}: {grade.score:g} / {grade.max_score:g}")
        return student.id, grade

    gradable = [student for student in students if student.id in settings]
    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        for student_id, outcome in pool.map(grade_one, gradable):
            if isinstance(outcome, Grade):
                result.grades[student_id] = outcome
            else:
                result.errors[student_id] = outcome
    out_dir.mkdir(parents=True, exist_ok=True)
    result.csv_path = write_grades_csv(students, result, out_dir / "grades.csv")
    result.overview_path = out_dir / "overview.md"
    result.overview_path.write_text(overview_markdown(cohort, students, result))
    return result


def _check_ids(result: CohortResult) -> list[str]:
    ids: list[str] = []
    for grade in result.grades.values():
        ids += [check.id for check in grade.checks if check.id not in ids]
    return ids


def write_grades_csv(students: Sequence[Student], result: CohortResult, path: Path) -> Path:
    """One row per student (roster order), one column per check (points scored; empty: not applicable)."""
    check_ids = _check_ids(result)
    with path.open("w", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["student_id", "stack", "score", "max_score", "percent", "copied_from", "error", *check_ids])
        for student in students:
            grade = result.grades.get(student.id)
            if grade is None:
                error = result.errors.get(student.id, "not graded")
                writer.writerow([student.id, student.stack, "", "", "", "", error, *([""] * len(check_ids))])
                continue
            points = {check.id: check for check in grade.checks}
            writer.writerow(
                [
                    student.id,
                    student.stack,
                    f"{grade.score:g}",
                    f"{grade.max_score:g}",
                    f"{_percent(grade):.1f}",
                    " ".join(grade.copied_from),
                    "",
                    *[
                        "" if c not in points or points[c].passed is None else f"{points[c].points:g}"
                        for c in check_ids
                    ],
                ]
            )
    return path


def _percent(grade: Grade) -> float:
    return 100.0 * grade.score / grade.max_score if grade.max_score else 0.0


def overview_markdown(cohort: str, students: Sequence[Student], result: CohortResult) -> str:
    percents = [_percent(grade) for grade in result.grades.values()]
    lines = [f"# Grades of cohort `{cohort}`", ""]
    lines.append(f"{len(result.grades)} of {len(students)} students graded.")
    if percents:
        lines += [
            "",
            f"Mean {statistics.mean(percents):.1f} %, median {statistics.median(percents):.1f} %, "
            f"min {min(percents):.1f} %, max {max(percents):.1f} %.",
            "",
            "## Score distribution",
            "",
            "| Score | Students | |",
            "|---|---:|---|",
        ]
        for low in range(0, 100, 10):
            high = 100 if low == 90 else low + 10
            count = sum(low <= p < high or (high == 100 and p == 100) for p in percents)
            lines.append(f"| {low}-{high} % | {count} | {'█' * count} |")
        lines += ["", "## Checks", "", "| Check | Passed |", "|---|---:|"]
        for check_id in _check_ids(result):
            applicable = [
                c for g in result.grades.values() for c in g.checks if c.id == check_id and c.passed is not None
            ]
            passed = sum(bool(c.passed) for c in applicable)
            lines.append(f"| `{check_id}` | {passed} / {len(applicable)} |")
    copies = {sid: grade.copied_from for sid, grade in result.grades.items() if grade.copied_from}
    if copies:
        lines += ["", "## Copies detected", ""]
        lines += [f"- `{sid}`: figures equal the key of {', '.join(others)}" for sid, others in sorted(copies.items())]
    if result.errors:
        lines += ["", "## Not graded", ""]
        lines += [f"- `{sid}`: {reason}" for sid, reason in sorted(result.errors.items())]
    lines += ["", "## Students", "", "| Student | Stack | Score |", "|---|---|---:|"]
    for student in students:
        grade = result.grades.get(student.id)
        score = f"{grade.score:g} / {grade.max_score:g}" if grade else "not graded"
        lines.append(f"| {student.id} | {student.stack} | {score} |")
    return "\n".join(lines) + "\n"
