"""Entry point Pulumi runs (`main: infra/` in Pulumi.yaml): declare the current stack and export its outputs."""

# `infra` and `pipeline` are packages of the project, which `make install-all` installs into the virtualenv Pulumi.yaml
# names: the program imports them by name, whatever folder the engine starts it from.
import pulumi

from infra.course import build_course, is_course_stack
from infra.stack import build

# A classroom cohort's instructor stack (`shopstream:course true`) declares what the cohort shares.
for key, value in (build_course() if is_course_stack() else build()).items():
    pulumi.export(key, value)
