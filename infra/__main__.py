"""Entry point Pulumi runs (`main: infra/` in Pulumi.yaml): declare the current stack and export its outputs."""

import sys
from pathlib import Path

# Pulumi puts infra/ on the path; the program imports `infra` and `pipeline` as packages of the repository root.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import pulumi  # noqa: E402

from infra.course import build_course, is_course_stack  # noqa: E402
from infra.stack import build  # noqa: E402

# A classroom cohort's instructor stack (`shopstream:course true`) declares what the cohort shares.
for key, value in (build_course() if is_course_stack() else build()).items():
    pulumi.export(key, value)
