"""Reproducible grading: per-stack answer keys built with the reference road, and read-only grading of a stack."""

from pipeline.grade.cohort import CohortResult, Student, grade_cohort
from pipeline.grade.grader import CheckResult, Grade, grade_stack, write_reports
from pipeline.grade.key import build_key, ensure_key
from pipeline.grade.rubric import Rubric, load_rubric

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
