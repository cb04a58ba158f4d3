"""`shopstream classroom`: one roster provisions, hands out, checks and tears down a whole class of stacks."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path
from typing import Annotated

import typer
from rich.live import Live

from pipeline.classroom.automation import Automation, PulumiAutomation
from pipeline.classroom.plan import ClassPlan, ClassSettings, plan_class
from pipeline.classroom.roster import RosterError, Student, load_roster, select
from pipeline.classroom.runner import (
    DEFAULT_PARALLEL,
    Board,
    Classroom,
    Outcome,
    RetryPolicy,
    outcome_table,
    run_parallel,
)
from pipeline.classroom.state import DEFAULT_ROOT, CohortFiles
from pipeline.classroom.status import class_status, cohort_stacks, status_table
from pipeline.cli import err, friendly_errors, out
from pipeline.errors import ShopstreamError
from pipeline.naming import validate_cohort

classroom_app: typer.Typer = typer.Typer(
    help="A whole class of cloud stacks from one roster CSV: plan, up, hand-outs, status, destroy.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)

Roster = Annotated[Path, typer.Option("--roster", help="CSV with a header: student_id (required), name, email.")]
Cohort = Annotated[str, typer.Option("--cohort", help="Cohort name: 1-10 lower-case letters or digits (e.g. fall26).")]
Parallel = Annotated[int, typer.Option("--parallel", min=1, help="Stacks worked on at the same time.")]
Only = Annotated[str | None, typer.Option("--only", help="Only these students: ID,ID,...")]
Dir = Annotated[Path, typer.Option("--dir", help="The instructor's private classroom folder (git-ignored).")]
Region = Annotated[
    str | None,
    typer.Option(
        "--region", help="AWS region of the stacks (default eu-west-1; later runs keep the cohort's last choice)."
    ),
]
CreditQuota = Annotated[
    int | None, typer.Option("--credit-quota", help="Snowflake credits per student per month (default 5).")
]
CourseQuota = Annotated[
    int | None, typer.Option("--course-credit-quota", help="Snowflake credits per month for grading (default 10).")
]
Budget = Annotated[
    int | None, typer.Option("--course-budget-usd", help="Monthly AWS budget of the account in USD (default 100).")
]
Instructor = Annotated[str | None, typer.Option("--instructor-email", help="Who receives the budget alerts.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="One JSON document on stdout instead of a table.")]


def open_automation() -> Automation:
    """The Pulumi adapter (tests replace this function with a fake)."""
    return PulumiAutomation()


def retry_policy() -> RetryPolicy:
    """How long to wait for a busy stack (tests replace it to record the pauses instead of sleeping)."""
    return RetryPolicy()


# -- plan -------------------------------------------------------------------------------------------------------
@classroom_app.command(epilog="Example:\n\n  shopstream classroom plan --roster roster.csv --cohort fall26 --json")
@friendly_errors
def plan(
    roster: Roster,
    cohort: Cohort,
    as_json: JsonFlag = False,
    region: Region = None,
    credit_quota: CreditQuota = None,
    course_credit_quota: CourseQuota = None,
    course_budget_usd: Budget = None,
    instructor_email: Instructor = None,
    directory: Dir = DEFAULT_ROOT,
) -> None:
    """Check the roster and show, per student, the stack, its names, data variant and config (no Pulumi needed)."""
    students = _roster(roster, cohort, as_json)
    files = CohortFiles(directory, cohort)
    settings = _class_settings(
        files,
        region=region,
        credit_quota=credit_quota,
        course_credit_quota=course_credit_quota,
        course_budget_usd=course_budget_usd,
        instructor_email=instructor_email,
    )
    class_plan = plan_class(cohort, students, files.salt(create=True), settings)
    if as_json:
        typer.echo(json.dumps(class_plan.document(), indent=2))
        return
    _print_plan(class_plan)


# -- up ---------------------------------------------------------------------------------------------------------
@classroom_app.command(
    epilog="Examples:\n\n  shopstream classroom up --roster roster.csv --cohort fall26\n\n"
    "  shopstream classroom up --roster roster.csv --cohort fall26 --only alice,bob --parallel 2"
)
@friendly_errors
def up(
    roster: Roster,
    cohort: Cohort,
    parallel: Parallel = DEFAULT_PARALLEL,
    only: Only = None,
    region: Region = None,
    credit_quota: CreditQuota = None,
    course_credit_quota: CourseQuota = None,
    course_budget_usd: Budget = None,
    instructor_email: Instructor = None,
    directory: Dir = DEFAULT_ROOT,
) -> None:
    """Create or update the course stack, then every student's stack, and write their hand-outs. Safe to rerun."""
    students = select(_roster(roster, cohort), only)
    files = CohortFiles(directory, cohort)
    settings = _class_settings(
        files,
        region=region,
        credit_quota=credit_quota,
        course_credit_quota=course_credit_quota,
        course_budget_usd=course_budget_usd,
        instructor_email=instructor_email,
    )
    automation = open_automation()
    files.save_settings(asdict(settings))
    _provision(automation, files, cohort, students, settings, parallel, rotate=False)


@classroom_app.command(
    "rotate-keys",
    epilog="Example:\n\n  shopstream classroom rotate-keys --roster roster.csv --cohort fall26 --only alice",
)
@friendly_errors
def rotate_keys(
    roster: Roster,
    cohort: Cohort,
    only: Only = None,
    parallel: Parallel = DEFAULT_PARALLEL,
    directory: Dir = DEFAULT_ROOT,
) -> None:
    """Give students new key pairs: new private keys in their hand-outs, new public keys on their stacks."""
    students = select(_roster(roster, cohort), only)
    files = CohortFiles(directory, cohort)
    settings = _class_settings(files)
    automation = open_automation()
    _provision(automation, files, cohort, students, settings, parallel, rotate=True)


def _provision(
    automation: Automation,
    files: CohortFiles,
    cohort: str,
    students: list[Student],
    settings: ClassSettings,
    parallel: int,
    *,
    rotate: bool,
) -> None:
    class_plan = plan_class(cohort, students, files.salt(create=True), settings)
    board = Board(f"Cohort {cohort}", [(p.student.student_id, p.stack) for p in class_plan.students])
    classroom = Classroom(automation, files, board, retry_policy())
    board.add("(course)", class_plan.course.stack)
    with Live(board, console=err, refresh_per_second=4, transient=True):
        outcomes = [classroom.provision_course(class_plan.course)]
        if outcomes[0].ok:
            work = lambda plan: classroom.provision_student(plan, rotate=rotate)  # noqa: E731
            outcomes += run_parallel(class_plan.students, work, parallel)
    if not outcomes[0].ok:
        err.print("[red]error:[/] the course stack failed, so no student stack was touched (see its log)")
    _finish(f"classroom {'rotate-keys' if rotate else 'up'} {cohort}", outcomes, files)


# -- hand-outs --------------------------------------------------------------------------------------------------
@classroom_app.command(epilog="Example:\n\n  shopstream classroom handout --roster roster.csv --cohort fall26")
@friendly_errors
def handout(
    roster: Roster,
    cohort: Cohort,
    only: Only = None,
    parallel: Parallel = DEFAULT_PARALLEL,
    directory: Dir = DEFAULT_ROOT,
) -> None:
    """Rewrite the students' hand-out folders from their stacks' current outputs."""
    files = CohortFiles(directory, cohort)
    students = select(_roster(roster, cohort), only)
    automation = open_automation()
    class_plan = plan_class(cohort, students, files.salt(create=True), _class_settings(files))
    board = Board(f"Hand-outs {cohort}", [(p.student.student_id, p.stack) for p in class_plan.students])
    classroom = Classroom(automation, files, board, retry_policy())
    with Live(board, console=err, refresh_per_second=4, transient=True):
        outcomes = run_parallel(class_plan.students, classroom.handout, parallel)
    _finish(f"classroom handout {cohort}", outcomes, files)


# -- status -----------------------------------------------------------------------------------------------------
@classroom_app.command(epilog="Examples:\n\n  shopstream classroom status --cohort fall26\n\n  ... --json")
@friendly_errors
def status(
    cohort: Cohort, as_json: JsonFlag = False, parallel: Parallel = DEFAULT_PARALLEL, directory: Dir = DEFAULT_ROOT
) -> None:
    """Every stack of the cohort: last update and when, resource count, outputs present, credit quota."""
    validate_cohort(cohort)
    automation = open_automation()
    rows = class_status(automation, cohort_stacks(automation, cohort), parallel)
    if as_json:
        typer.echo(json.dumps({"cohort": cohort, "stacks": [row.document() for row in rows]}, indent=2))
        return
    out.print(status_table(cohort, rows))


# -- destroy ----------------------------------------------------------------------------------------------------
@classroom_app.command(epilog="Example:\n\n  shopstream classroom destroy --cohort fall26 --yes")
@friendly_errors
def destroy(
    cohort: Cohort,
    yes: Annotated[bool, typer.Option("--yes", help="Really destroy every stack of the cohort.")] = False,
    parallel: Parallel = DEFAULT_PARALLEL,
    directory: Dir = DEFAULT_ROOT,
) -> None:
    """Destroy and remove every stack of the cohort (students first, the course stack last) and their hand-outs."""
    validate_cohort(cohort)
    automation = open_automation()
    stacks = cohort_stacks(automation, cohort)
    if not yes:
        err.print(
            f"[red]error:[/] refusing to destroy {len(stacks)} stacks of cohort {cohort} without --yes "
            f"({', '.join(stacks) or 'none'})",
            soft_wrap=True,
        )
        raise typer.Exit(2)
    files = CohortFiles(directory, cohort)
    course = stacks[-1:] if stacks and stacks[-1].endswith("-course") else []
    students = stacks[: len(stacks) - len(course)]
    board = Board(f"Destroy {cohort}", [(stack, stack) for stack in stacks])
    classroom = Classroom(automation, files, board, retry_policy())
    with Live(board, console=err, refresh_per_second=4, transient=True):
        outcomes = run_parallel(students, classroom.teardown, parallel)
        if all(outcome.ok for outcome in outcomes):
            outcomes += [classroom.teardown(stack) for stack in course]
        else:  # student grants name the grader role: keep the course stack until every student stack is gone
            outcomes += [Outcome("(course)", stack, "kept", 0.0, 0, "student stacks remain") for stack in course]
    _finish(f"classroom destroy {cohort}", outcomes, files)


# -- grading ----------------------------------------------------------------------------------------------------
# `shopstream classroom grade` belongs to the grading package, which registers it on `classroom_app`. What it needs
# from the classroom: the class (`planned_class`: stacks, hand-out folders, data-variant seeds from the cohort's
# salt), the grader's key (`CohortFiles.grader_key`) and the course stack's outputs (grader user, role, warehouse).
def planned_class(roster: Path, cohort: str, directory: Path = DEFAULT_ROOT) -> ClassPlan:
    """The checked roster's plan with the cohort's own salt and recorded settings; the cohort must exist."""
    files = CohortFiles(directory, cohort)
    salt = files.salt(create=False)
    if salt is None:
        raise ShopstreamError(f"cohort {cohort} has no state in {files.folder}: run `shopstream classroom up` first")
    return plan_class(cohort, load_roster(roster, cohort), salt, _class_settings(files))


# -- shared -----------------------------------------------------------------------------------------------------
def _roster(path: Path, cohort: str, as_json: bool = False) -> list[Student]:
    """The checked roster; a bad one prints every problem (or a JSON document of them) and exits 2."""
    try:
        return load_roster(path, cohort)
    except RosterError as exc:
        if as_json:
            typer.echo(json.dumps({"cohort": cohort, "roster": str(path), "problems": exc.problems}, indent=2))
        else:
            err.print(f"[red]error:[/] roster {path} refused, nothing was provisioned:", soft_wrap=True)
            for problem in exc.problems:
                err.print(f"  {problem}", soft_wrap=True, markup=False)
        raise typer.Exit(exc.exit_code) from None


def _class_settings(files: CohortFiles, **given: object) -> ClassSettings:
    """Options given now, else what the cohort's last `up` used, else the defaults."""
    chosen = {**files.settings(), **{key: value for key, value in given.items() if value is not None}}
    known = {field.name for field in fields(ClassSettings)}
    return ClassSettings(**{key: value for key, value in chosen.items() if key in known})


def _finish(title: str, outcomes: list[Outcome], files: CohortFiles) -> None:
    out.print(outcome_table(title, outcomes))
    failed = [outcome for outcome in outcomes if outcome.status != "ok"]
    out.print(f"logs in {files.folder / 'logs'}; hand-outs in {files.handouts}", soft_wrap=True)
    if failed:
        err.print(f"[red]error:[/] {len(failed)} of {len(outcomes)} stacks did not succeed; fix and rerun (it is safe)")
        raise typer.Exit(1)


def _print_plan(class_plan: ClassPlan) -> None:
    from rich.table import Table

    table = Table(title=f"Cohort {class_plan.cohort}: {len(class_plan.students)} students", title_justify="left")
    for column in ("student", "stack", "database", "bucket", "variant seed", "hand-out"):
        table.add_column(column, justify="right" if column == "variant seed" else "left")
    for student in class_plan.students:
        table.add_row(
            student.student.student_id,
            student.stack,
            student.names.get("database", ""),
            student.names.get("bucket", ""),
            str(student.variant_seed),
            student.student.folder,
        )
    out.print(table)
    course = class_plan.course
    out.print(f"course stack {course.stack}: grader role {course.names.grader_role}", soft_wrap=True)
    out.print("every name and config key: shopstream classroom plan ... --json", soft_wrap=True)
