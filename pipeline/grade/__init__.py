"""Reproducible grading: per-stack answer keys built with the reference road, and read-only grading of a stack.

Nothing is imported until used: the CLI imports this package for its `grade` and `classroom grade` commands, and
the grader behind it (numpy, psycopg, DuckDB) would slow every other command's start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.grade.cohort import CohortResult, Student, grade_cohort
    from pipeline.grade.grader import CheckResult, Grade, grade_stack, write_reports
    from pipeline.grade.key import build_key, ensure_key
    from pipeline.grade.rubric import Rubric, load_rubric

_HOMES = {
    "CohortResult": "cohort",
    "Student": "cohort",
    "grade_cohort": "cohort",
    "CheckResult": "grader",
    "Grade": "grader",
    "grade_stack": "grader",
    "write_reports": "grader",
    "build_key": "key",
    "ensure_key": "key",
    "Rubric": "rubric",
    "load_rubric": "rubric",
}
__all__ = [
    "CheckResult",
    "CohortResult",
    "Grade",
    "Rubric",
    "Student",
    "build_key",
    "ensure_key",
    "grade_cohort",
    "grade_stack",
    "load_rubric",
    "write_reports",
]


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(f"pipeline.grade.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
