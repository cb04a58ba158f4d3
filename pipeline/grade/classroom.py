"""`shopstream classroom grade`: grade every student of a cohort with the cohort's grader identity.

The class comes from the roster and the cohort's private state (`shopstream classroom`): each student's stack, and
their hand-out's `outputs.json` (which carries the stack's `variant_seed`). Cloud stacks are read as the cohort's
grader — its key-pair service user and role, on its own warehouse — so grading never uses a student's rights or
credits. Keys and reports stay in the cohort's private folder (`classroom/<cohort>/grading/`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from pipeline.classroom.cli import DEFAULT_ROOT, Dir, Roster, classroom_app, planned_class
from pipeline.classroom.handout import OUTPUTS_FILE
from pipeline.classroom.state import CohortFiles
from pipeline.cli import err, friendly_errors, out
from pipeline.grade.cli import RubricFile, Scale
from pipeline.naming import CohortNames
from pipeline.settings import ENV_SF_PASSWORD as ENV_PASSWORD
from pipeline.settings import ENV_SF_PRIVATE_KEY_PATH as ENV_PRIVATE_KEY_PATH
from pipeline.settings import ENV_SF_USER as ENV_USER
from pipeline.settings import Settings, SnowflakeWarehouse, resolve_settings, temporary_environment


def as_grader(settings: Settings, names: CohortNames) -> Settings:
    """A cloud stack's settings with the cohort's grader role and warehouse (a local stack is unchanged)."""
    warehouse = settings.warehouse
    if not isinstance(warehouse, SnowflakeWarehouse):
        return settings
    grading = {purpose: names.grader_warehouse for purpose in warehouse.warehouses}
    return settings.model_copy(
        update={"warehouse": warehouse.model_copy(update={"role": names.grader_role, "warehouses": grading})}
    )


@contextmanager
def grader_login(files: CohortFiles, names: CohortNames) -> Iterator[None]:
    """The grader service user's key pair as the Snowflake login of this process (and of dbt), then restored."""
    if not files.grader_key.exists():
        yield
        return
    # Key-pair auth: a password in the shell must not take over.
    login = {ENV_USER: names.grader_user, ENV_PRIVATE_KEY_PATH: str(files.grader_key), ENV_PASSWORD: None}
    with temporary_environment(login):
        yield


@classroom_app.command("grade", epilog="Example:\n\n  shopstream classroom grade --roster class.csv --cohort fall26")
@friendly_errors
def classroom_grade(
    roster: Roster,
    cohort: Annotated[str, typer.Option("--cohort", help="Cohort name (its salt and hand-outs come from --dir).")],
    directory: Dir = DEFAULT_ROOT,
    scale: Scale = 1.0,
    rubric: RubricFile = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Report folder (default classroom/COHORT/grading/reports).")
    ] = None,
    parallel: Annotated[int, typer.Option("--parallel", min=1, help="Stacks graded at the same time.")] = 2,
) -> None:
    """Grade every student of the cohort: reports, grades.csv and overview.md (keys built where missing)."""
    from pipeline.grade.cohort import Student, grade_cohort
    from pipeline.grade.rubric import load_rubric

    plan = planned_class(roster, cohort, directory)
    files = CohortFiles(directory, cohort)
    names = CohortNames(cohort)
    students = []
    for planned in plan.students:
        outputs = files.handout(planned.student.folder) / OUTPUTS_FILE
        handed_out = outputs if outputs.exists() else None  # none yet: a local stack of that name, if any
        students.append(Student(stack=planned.stack, student_id=planned.student.student_id, outputs=handed_out))
    target = out_dir or files.folder / "grading" / "reports"
    with grader_login(files, names):
        result = grade_cohort(
            students,
            cohort=cohort,
            salt=files.salt(create=False),
            scale=scale,
            rubric=load_rubric(rubric),
            keys_dir=files.folder / "grading" / "keys",
            out_dir=target,
            parallel=parallel,
            settings_for=lambda s: as_grader(resolve_settings(s.stack, s.outputs), names),
            log=lambda message: err.print(f"[dim]{message}[/]"),
        )
    for student_id, reason in sorted(result.errors.items()):
        out.print(f"[yellow]not graded[/] {student_id}: {reason}", soft_wrap=True)
    out.print(
        f"[green]✓[/] graded {len(result.grades)} of {len(students)} students → {result.csv_path}, "
        f"{result.overview_path}",
        soft_wrap=True,
    )
