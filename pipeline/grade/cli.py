"""`shopstream grade`: grade a stack, build its answer key, grade a class."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli import Outputs, Stack, err, friendly_errors, out
from pipeline.settings import ENV_COURSE_SALT, Settings, course_salt, resolve_settings

ENV_GRADER_ROLE = "SHOPSTREAM_GRADER_ROLE"
LOCAL_COHORT = "local"

grade_app: typer.Typer = typer.Typer(
    help=(
        "Grade a stack against its answer key (read-only). The key is built with the reference road on the stack's "
        f"data variant (stack name + ${ENV_COURSE_SALT}) and cached per cohort."
    ),
    invoke_without_command=True,
)

Cohort = Annotated[
    str, typer.Option("--cohort", help="Cohort of the stack: names the key cache (default `local`: self-grading).")
]
KeysDir = Annotated[
    Path | None,
    typer.Option("--keys", help="Folder of the cohort's answer keys (default $SHOPSTREAM_HOME/grading/COHORT/keys)."),
]
Scale = Annotated[float, typer.Option("--scale", help="Scale factor the stack was generated at (course: 1).")]
Seed = Annotated[
    int | None, typer.Option("--seed", help="Data-variant seed (default: the stack's outputs, else name + salt).")
]
RubricFile = Annotated[
    Path | None, typer.Option("--rubric", help="Rubric YAML (ids, titles, points, enabled); default: the built-in.")
]
OutDir = Annotated[
    Path | None, typer.Option("--out", help="Report folder (default $SHOPSTREAM_HOME/grading/COHORT/reports).")
]
Role = Annotated[
    str | None,
    typer.Option("--role", envvar=ENV_GRADER_ROLE, help="Snowflake role to read with (the cohort's grader role)."),
]


def _keys_dir(cohort: str, keys: Path | None) -> Path:
    from pipeline.grade.key import default_keys_dir

    return keys or default_keys_dir(cohort)


def _out_dir(cohort: str, out_dir: Path | None) -> Path:
    from pipeline.settings import shopstream_home

    return out_dir or shopstream_home() / "grading" / cohort / "reports"


def _stack_settings(stack: str, outputs: Path | None, role: str | None) -> Settings:
    settings = resolve_settings(stack, outputs)
    if role and settings.warehouse.kind == "snowflake":
        settings = settings.model_copy(update={"warehouse": settings.warehouse.model_copy(update={"role": role})})
    return settings


@grade_app.callback(
    epilog="Examples:\n\n  shopstream grade (self-grade the local stack dev)\n\n  "
    "shopstream grade --stack alice --outputs alice.json --cohort data101 --out grades/"
)
@friendly_errors
def grade(
    ctx: typer.Context,
    stack: Stack = "dev",
    outputs: Outputs = None,
    rubric: RubricFile = None,
    out_dir: OutDir = None,
    cohort: Cohort = LOCAL_COHORT,
    keys: KeysDir = None,
    key_file: Annotated[
        Path | None, typer.Option("--key", help="Grade against this key file instead of the cohort's cache.")
    ] = None,
    scale: Scale = 1.0,
    seed: Seed = None,
    role: Role = None,
) -> None:
    """Grade the stack: lake, RAW, models, mart figures, data tests, copy detection, cloud posture."""
    if ctx.invoked_subcommand is not None:
        return
    from pipeline.grade.cohort import seed_for
    from pipeline.grade.grader import grade_stack, load_other_keys, write_reports
    from pipeline.grade.key import ensure_key, read_key
    from pipeline.grade.rubric import load_rubric

    loaded_rubric = load_rubric(rubric)
    settings = _stack_settings(stack, outputs, role)
    keys_dir = _keys_dir(cohort, keys)
    if key_file is not None:
        key = read_key(key_file)
    else:
        with err.status(f"answer key of {stack} (the reference road, off to the side)…"):
            key = ensure_key(stack, seed if seed is not None else seed_for(settings, course_salt()), scale, keys_dir)
    result = grade_stack(settings, key, loaded_rubric, load_other_keys(keys_dir, stack))
    json_path, md_path = write_reports(result, _out_dir(cohort, out_dir))
    for check in result.checks:
        mark = {True: "[green]✓[/]", False: "[red]✗[/]", None: "[dim]-[/]"}[check.passed]
        out.print(f"{mark} {check.title}: {check.points:g}/{check.max_points:g}", soft_wrap=True)
    if result.copied_from:
        out.print(f"[red]copy detected:[/] figures equal the key of {', '.join(result.copied_from)}")
    out.print(f"[bold]{result.score:g} / {result.max_score:g}[/] — reports {json_path} and {md_path}", soft_wrap=True)


@grade_app.command("key", epilog="Example:\n\n  shopstream grade key --stack alice --cohort data101")
@friendly_errors
def key(
    stack: Stack = "dev",
    outputs: Outputs = None,
    cohort: Cohort = LOCAL_COHORT,
    keys: KeysDir = None,
    scale: Scale = 1.0,
    seed: Seed = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Build again even if the cached key is current.")] = False,
) -> None:
    """Build (or reuse) the stack's answer key with the reference road in a scratch folder."""
    from pipeline.grade.cohort import seed_for
    from pipeline.grade.key import ensure_key, key_path
    from pipeline.naming import validate_stack
    from pipeline.settings import is_local_stack
    from pipeline.variant import variant_seed

    validate_stack(stack)
    if seed is None:
        # A key needs only the variant: a stack not created yet (a roster's) is keyed from its name and the salt.
        if outputs is not None or is_local_stack(stack):
            seed = seed_for(resolve_settings(stack, outputs), course_salt())
        else:
            seed = variant_seed(stack, course_salt())
    keys_dir = _keys_dir(cohort, keys)
    with err.status(f"answer key of {stack} (the reference road, off to the side)…"):
        built = ensure_key(stack, seed, scale, keys_dir, rebuild=rebuild)
    raw = sum(built["raw_rows"].values())
    path = key_path(keys_dir, stack)
    out.print(f"[green]✓[/] key of {stack}: {raw:,} RAW rows, {len(built['marts'])} marts → {path}", soft_wrap=True)


@grade_app.command("class", epilog="Example:\n\n  shopstream grade class --stacks alice,bob,carol --cohort data101")
@friendly_errors
def grade_class(
    stacks: Annotated[str, typer.Option("--stacks", help="Comma-separated stack names of the class.")],
    cohort: Cohort = LOCAL_COHORT,
    keys: KeysDir = None,
    scale: Scale = 1.0,
    rubric: RubricFile = None,
    out_dir: OutDir = None,
    parallel: Annotated[int, typer.Option("--parallel", min=1, help="Stacks graded at once.")] = 2,
) -> None:
    """Grade every stack of a class: reports per student, grades.csv and overview.md."""
    from pipeline.errors import ShopstreamError
    from pipeline.grade.cohort import Student, grade_cohort
    from pipeline.grade.rubric import load_rubric

    names = [name.strip() for name in stacks.split(",") if name.strip()]
    if not names:
        raise ShopstreamError("--stacks names no stack: e.g. --stacks alice,bob")
    target = _out_dir(cohort, out_dir)
    result = grade_cohort(
        [Student(stack=name) for name in names],
        cohort=cohort,
        salt=course_salt(),
        scale=scale,
        rubric=load_rubric(rubric),
        keys_dir=_keys_dir(cohort, keys),
        out_dir=target,
        parallel=parallel,
        log=lambda message: err.print(f"[dim]{message}[/]"),
    )
    for student_id, reason in sorted(result.errors.items()):
        out.print(f"[yellow]not graded[/] {student_id}: {reason}", soft_wrap=True)
    out.print(
        f"[green]✓[/] graded {len(result.grades)} of {len(names)} stacks → {result.csv_path}, {result.overview_path}",
        soft_wrap=True,
    )
