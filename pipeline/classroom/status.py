"""`classroom status`: one row per stack of the cohort, read from the backend (no roster needed)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from rich.table import Table

from pipeline.classroom.automation import Automation
from pipeline.classroom.plan import CREDIT_QUOTA
from pipeline.errors import ShopstreamError
from pipeline.naming import COURSE_STACK_SUFFIX, CohortNames
from pipeline.settings import StackOutputs

REQUIRED_OUTPUTS = tuple(name for name, field in StackOutputs.model_fields.items() if field.is_required())


@dataclass(frozen=True)
class StackStatus:
    stack: str
    last_result: str | None
    last_update: str | None
    resources: int | None
    outputs: str  # complete | missing: a, b | none
    credit_quota: str | None
    error: str = ""

    def document(self) -> dict[str, Any]:
        return asdict(self)


def cohort_stacks(automation: Automation, cohort: str) -> list[str]:
    """Every stack of the cohort in the backend, students first (sorted), the course stack last.

    A cohort name has no hyphen, so the part of a stack name before its first hyphen is its cohort.
    """
    course = CohortNames(cohort).course_stack
    stacks = sorted(stack for stack in automation.list_stacks() if stack.split("-", 1)[0] == cohort)
    return [stack for stack in stacks if stack != course] + [stack for stack in stacks if stack == course]


def stack_status(automation: Automation, stack: str) -> StackStatus:
    try:
        summary = automation.summary(stack)
        config = automation.get_config(stack)
        outputs = automation.outputs(stack)
    except ShopstreamError as exc:
        return StackStatus(stack, None, None, None, "unknown", None, " ".join(str(exc).split()))
    if stack.endswith(f"-{COURSE_STACK_SUFFIX}"):
        expected: tuple[str, ...] = ("grader_role", "grader_warehouse")
    else:
        expected = REQUIRED_OUTPUTS
    missing = [name for name in expected if name not in outputs]
    return StackStatus(
        stack=stack,
        last_result=summary.last_result,
        last_update=summary.last_update.isoformat(timespec="seconds") if summary.last_update else None,
        resources=summary.resource_count,
        outputs="none" if not outputs else ("complete" if not missing else "missing: " + ", ".join(missing)),
        credit_quota=config.get(CREDIT_QUOTA),
    )


def class_status(automation: Automation, stacks: list[str], parallel: int) -> list[StackStatus]:
    read: Callable[[str], StackStatus] = lambda stack: stack_status(automation, stack)  # noqa: E731
    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="classroom-status") as pool:
        return list(pool.map(read, stacks))


def status_table(cohort: str, rows: list[StackStatus]) -> Table:
    table = Table(title=f"Cohort {cohort}: {len(rows)} stacks", title_justify="left")
    for column in ("stack", "last update", "when", "resources", "outputs", "credit quota", "error"):
        table.add_column(column, justify="right" if column in ("resources", "credit quota") else "left")
    for row in rows:
        result = {"succeeded": "[green]succeeded[/]", "failed": "[red]failed[/]"}.get(
            row.last_result or "", row.last_result or "never"
        )
        table.add_row(
            row.stack,
            result,
            row.last_update or "",
            "" if row.resources is None else str(row.resources),
            row.outputs,
            row.credit_quota or "",
            row.error,
        )
    return table
