"""`python -m bench.grading`: time to grade one student's local stack once its answer key exists.

A scratch SHOPSTREAM_HOME gets N students' stacks built with the pipeline's steps (each on its own data variant)
and their keys. dbt compiles the project's data tests once (timed on its own: once per class), then every stack is
graded with the default rubric (dbt data tests included), with the data tests alone and without them, and the
whole class once more through `grade_cohort` with `--parallel`. The times are printed as a Markdown table (`--out
FILE` also writes it) against the goal: under 5 s per SF 1 stack with the default rubric once its key exists.

python -m bench.grading                       # SF 1, 3 students
python -m bench.grading --scale 0.1 --students 2 --parallel 2 --out /tmp/GRADING.md
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.machine import load_average
from pipeline import source
from pipeline.extract import extract
from pipeline.grade.cohort import Student, grade_cohort
from pipeline.grade.data_tests import run_data_tests
from pipeline.grade.grader import grade_stack, load_other_keys
from pipeline.grade.key import KEY_BUILD_EXCLUDE, ensure_key, free_port, key_path, one_server_for_keys, read_key
from pipeline.grade.rubric import Rubric, load_rubric
from pipeline.load import load
from pipeline.run import generate_if_empty
from pipeline.settings import ENV_COURSE_SALT, ENV_HOME, ENV_PG_PORT, DuckDBWarehouse, Settings
from pipeline.stack import Stack
from pipeline.transform import build
from pipeline.variant import variant_seed

EXTRACT_DATE = "2026-01-15"
SALT = "bench-cohort"
GOAL_SECONDS = 5.0
WITH_DATA_TESTS = "default rubric (with dbt data tests)"


def build_stack(stack: str, scale: float) -> Settings:
    settings = Stack.open(stack, local=True).settings
    dsn = source.up(settings)
    try:
        generate_if_empty(settings, dsn, scale, None)
        extract(settings, EXTRACT_DATE)
    finally:
        source.down(settings)
    load(settings, EXTRACT_DATE)
    build(settings, exclude=KEY_BUILD_EXCLUDE)
    return settings


def only_checks(rubric: Rubric, keep: Callable[[str], bool]) -> Rubric:
    checks = [e.model_copy(update={"enabled": e.enabled and keep(e.id)}) for e in rubric.checks]
    return rubric.model_copy(update={"checks": checks})


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.grading", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--students", type=int, default=3)
    parser.add_argument("--parallel", type=int, default=2, help="stacks graded at once in the class run")
    parser.add_argument("--out", type=Path, help="also write the table to this file")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="shopstream-bench-grading-"))
    home.chmod(0o755)
    os.environ.update({ENV_HOME: str(home), ENV_PG_PORT: str(free_port()), ENV_COURSE_SALT: SALT})
    keys_dir = home / "keys"
    try:
        stacks, key_seconds = [], []
        with one_server_for_keys():  # as `grade class` builds a class's keys
            for number in range(args.students):
                stack = f"student{number + 1}"
                print(f"building {stack} at SF {args.scale:g}…", flush=True)
                stacks.append(build_stack(stack, args.scale))
                started = time.perf_counter()
                ensure_key(stack, variant_seed(stack, SALT), args.scale, keys_dir)
                key_seconds.append(time.perf_counter() - started)
        load_before = load_average()
        started = time.perf_counter()
        warehouse = stacks[0].warehouse
        assert isinstance(warehouse, DuckDBWarehouse)  # local stacks: DuckDB
        run_data_tests(warehouse.path)  # dbt compiles the tests: once per class (per catalog shape)
        compile_seconds = time.perf_counter() - started
        default = load_rubric()
        rubrics = {
            WITH_DATA_TESTS: default,
            "dbt data tests alone": only_checks(default, lambda check: check == "data_tests"),
            "without data tests": only_checks(default, lambda check: check != "data_tests"),
        }
        seconds: dict[str, list[float]] = {}
        for label, rubric in rubrics.items():
            for settings in stacks:
                key = read_key(key_path(keys_dir, settings.stack))
                started = time.perf_counter()
                grade = grade_stack(settings, key, rubric, load_other_keys(keys_dir, settings.stack))
                seconds.setdefault(label, []).append(time.perf_counter() - started)
                assert grade.score == grade.max_score, f"{settings.stack}: {grade.score} / {grade.max_score}"
        started = time.perf_counter()
        result = grade_cohort(
            [Student(settings.stack) for settings in stacks],
            cohort="bench",
            salt=SALT,
            scale=args.scale,
            rubric=default,
            keys_dir=keys_dir,
            out_dir=home / "reports",
            parallel=args.parallel,
        )
        class_per_student = (time.perf_counter() - started) / len(stacks)
        assert len(result.grades) == len(stacks), result.errors
        worst = max(seconds[WITH_DATA_TESTS])
        verdict = "met" if worst < GOAL_SECONDS else "NOT met"
        lines = [
            f"### Grading at SF {args.scale:g} ({args.students} students, load average {load_before})",
            "",
            "| What | Median s per student | Max s |",
            "|---|---:|---:|",
            f"| answer key (reference road, once per student) | {statistics.median(key_seconds):.1f} | "
            f"{max(key_seconds):.1f} |",
            f"| dbt compiles the data tests (once per class) | {compile_seconds:.1f} | {compile_seconds:.1f} |",
            *[
                f"| grade, {label} | {statistics.median(times):.2f} | {max(times):.2f} |"
                for label, times in seconds.items()
            ],
            f"| class of {len(stacks)}, default rubric, `--parallel {args.parallel}` (wall time / students) | "
            f"{class_per_student:.2f} | |",
            "",
            f"Goal under {GOAL_SECONDS:g} s per student with the default rubric once the key exists: {verdict} "
            f"(max {worst:.2f} s).",
        ]
        table = "\n".join(lines) + "\n"
        print(table)
        if args.out:
            args.out.write_text(table)
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
