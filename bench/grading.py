"""`python -m bench.grading`: time to grade one student's local stack once its answer key exists.

A scratch SHOPSTREAM_HOME gets N students' stacks built with the pipeline's steps (each on its own data variant)
and their keys; then every stack is graded with the default rubric and again without the dbt data tests, and the
time per student is printed as a Markdown table (`--out FILE` also writes it). Goal: under 5 s per SF 1 stack.

python -m bench.grading                       # SF 1, 3 students
python -m bench.grading --scale 0.1 --students 2 --out /tmp/GRADING.md
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench.machine import load_average
from pipeline import source
from pipeline.extract import extract
from pipeline.grade.grader import grade_stack, load_other_keys
from pipeline.grade.key import KEY_BUILD_EXCLUDE, ensure_key, free_port, key_path, read_key
from pipeline.grade.rubric import Rubric, load_rubric
from pipeline.load import load
from pipeline.run import generate_if_empty
from pipeline.settings import ENV_COURSE_SALT, ENV_HOME, ENV_PG_PORT, Settings
from pipeline.stack import Stack
from pipeline.transform import build
from pipeline.variant import variant_seed

EXTRACT_DATE = "2026-01-15"
SALT = "bench-cohort"


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


def without_data_tests(rubric: Rubric) -> Rubric:
    checks = [e.model_copy(update={"enabled": e.enabled and e.id != "data_tests"}) for e in rubric.checks]
    return rubric.model_copy(update={"checks": checks})


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.grading", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--students", type=int, default=3)
    parser.add_argument("--out", type=Path, help="also write the table to this file")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="shopstream-bench-grading-"))
    home.chmod(0o755)
    os.environ.update({ENV_HOME: str(home), ENV_PG_PORT: str(free_port()), ENV_COURSE_SALT: SALT})
    keys_dir = home / "keys"
    try:
        stacks, key_seconds = [], []
        for number in range(args.students):
            stack = f"student{number + 1}"
            print(f"building {stack} at SF {args.scale:g}…", flush=True)
            stacks.append(build_stack(stack, args.scale))
            started = time.perf_counter()
            ensure_key(stack, variant_seed(stack, SALT), args.scale, keys_dir)
            key_seconds.append(time.perf_counter() - started)
        rubrics = {"default rubric (with dbt data tests)": load_rubric()}
        rubrics["without data tests"] = without_data_tests(rubrics["default rubric (with dbt data tests)"])
        rows = []
        for label, rubric in rubrics.items():
            seconds = []
            for settings in stacks:
                key = read_key(key_path(keys_dir, settings.stack))
                started = time.perf_counter()
                grade = grade_stack(settings, key, rubric, load_other_keys(keys_dir, settings.stack))
                seconds.append(time.perf_counter() - started)
                assert grade.score == grade.max_score, f"{settings.stack}: {grade.score} / {grade.max_score}"
            rows.append((label, statistics.median(seconds), max(seconds)))
        lines = [
            f"### Grading at SF {args.scale:g} ({args.students} students, load average {load_average()})",
            "",
            "| What | Median s per student | Max s |",
            "|---|---:|---:|",
            f"| answer key (reference road, once per student) | {statistics.median(key_seconds):.1f} | "
            f"{max(key_seconds):.1f} |",
            *[f"| grade, {label} | {median:.1f} | {worst:.1f} |" for label, median, worst in rows],
        ]
        table = "\n".join(lines) + "\n"
        print(table)
        if args.out:
            args.out.write_text(table)
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
