"""Provision and tear down a class: bounded parallelism, retries on busy stacks, one log file per stack.

Every student runs on its own: a failure becomes that student's row in the final table, never the class's end.
Each step is idempotent (select-or-create, set config, `up`, hand-out), so a rerun after a failure or a crash
picks up where the class stands.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import CancelledError, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from rich.table import Table

from pipeline.classroom.automation import Automation, StackBusyError
from pipeline.classroom.handout import OUTPUTS_FILE, key_path, write_handout
from pipeline.classroom.keys import ensure_key_pair
from pipeline.classroom.plan import CoursePlan, StudentPlan
from pipeline.classroom.state import PRIVATE_FILE, CohortFiles, private_dir
from pipeline.errors import ShopstreamError
from pipeline.naming import COURSE_STACK_SUFFIX

DEFAULT_PARALLEL = 4
COURSE_LABEL = "(course)"
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter for a stack another update holds (parallel runs, a colleague's `up`)."""

    attempts: int = 5
    first_delay: float = 5.0
    max_delay: float = 60.0
    sleep: Callable[[float], None] = time.sleep

    def delay(self, attempt: int) -> float:
        return min(self.max_delay, self.first_delay * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


@dataclass
class Outcome:
    label: str  # the student's id, or (course)
    stack: str
    status: str  # ok | failed | kept
    seconds: float
    retries: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class Board:
    """The live view of a class run: what each stack is doing now, and the tally. Safe to update from threads."""

    def __init__(self, title: str, stacks: Iterable[tuple[str, str]]):
        self.title = title
        self._lock = threading.Lock()
        self._labels = dict((stack, label) for label, stack in stacks)
        self._state = dict.fromkeys(self._labels, "queued")
        self._started: dict[str, float] = {}

    def add(self, label: str, stack: str) -> None:
        with self._lock:
            self._labels[stack] = label
            self._state[stack] = "queued"

    def update(self, stack: str, state: str) -> None:
        with self._lock:
            self._started.setdefault(stack, time.monotonic())
            self._state[stack] = state

    def __rich__(self) -> Table:
        with self._lock:
            states = dict(self._state)
            started = dict(self._started)
        tally = {name: sum(1 for state in states.values() if state == name) for name in ("ok", "failed", "queued")}
        running = len(states) - sum(tally.values())
        table = Table(
            title=f"{self.title}: {tally['ok']} ok · {tally['failed']} failed · {running} running · "
            f"{tally['queued']} queued",
            title_justify="left",
        )
        for column in ("student", "stack", "now", "elapsed"):
            table.add_column(column, justify="right" if column == "elapsed" else "left")
        for stack, state in states.items():
            if state in ("queued", "ok"):
                continue
            elapsed = f"{time.monotonic() - started[stack]:.0f}s" if stack in started else ""
            table.add_row(self._labels[stack], stack, f"[red]{state}[/]" if state == "failed" else state, elapsed)
        return table


def outcome_table(title: str, outcomes: list[Outcome]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("student", "stack", "status", "duration", "retries", "error"):
        table.add_column(column, justify="right" if column in ("duration", "retries") else "left")
    for outcome in outcomes:
        status = {"ok": "[green]ok[/]", "failed": "[red]failed[/]"}.get(outcome.status, f"[yellow]{outcome.status}[/]")
        table.add_row(
            outcome.label, outcome.stack, status, f"{outcome.seconds:.1f}s", str(outcome.retries), outcome.error
        )
    return table


def run_parallel(items: list[T], work: Callable[[T], Outcome], parallel: int) -> list[Outcome]:
    """`work` on every item, `parallel` at a time, outcomes in item order. A crash stops what has not started."""
    if parallel < 1:
        raise ShopstreamError(f"--parallel must be at least 1, not {parallel}")
    stop = threading.Event()  # set by a crash or Ctrl-C: no new stack starts, running ones finish

    def guarded(item: T) -> Outcome:
        if stop.is_set():
            raise CancelledError
        try:
            return work(item)
        except BaseException:
            stop.set()
            raise

    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="classroom") as pool:
        futures = [pool.submit(guarded, item) for item in items]
        try:
            return [future.result() for future in futures]
        except BaseException:
            stop.set()
            for future in futures:
                future.cancel()
            raise


class StackLog:
    """Appends one stack's story (steps, retries, Pulumi's output) to its private log file."""

    def __init__(self, path: Path):
        private_dir(path.parent)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
        self._file = os.fdopen(descriptor, "a", encoding="utf-8")

    def __call__(self, line: str) -> None:
        self._file.write(line if line.endswith("\n") else line + "\n")
        self._file.flush()

    def note(self, message: str) -> None:
        self(f"[{datetime.now(UTC).isoformat(timespec='seconds')}] {message}")

    def close(self) -> None:
        self._file.close()


@dataclass
class Classroom:
    """The class-level operations on one cohort, through the `Automation` adapter."""

    automation: Automation
    files: CohortFiles
    board: Board
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    # -- up -----------------------------------------------------------------------------------------------------
    def provision_course(self, plan: CoursePlan) -> Outcome:
        def steps(log: StackLog, retried: Callable[[str, Callable[[], Any]], Any]) -> None:
            public_key = ensure_key_pair(self.files.grader_key)
            self._configure_and_up(plan.stack, plan.with_public_key(public_key), log, retried)

        return self._run(COURSE_LABEL, plan.stack, "up", steps)

    def provision_student(self, plan: StudentPlan, *, rotate: bool = False) -> Outcome:
        folder = self.files.handout(plan.student.folder)

        def steps(log: StackLog, retried: Callable[[str, Callable[[], Any]], Any]) -> None:
            self.board.update(plan.stack, "new key pair" if rotate else "key pair")
            public_key = ensure_key_pair(key_path(folder), rotate=rotate)
            outputs = self._configure_and_up(plan.stack, plan.with_public_key(public_key), log, retried)
            self.board.update(plan.stack, "hand-out")
            write_handout(folder, plan.stack, outputs)
            log.note(f"hand-out written to {folder}")

        return self._run(plan.student.student_id, plan.stack, "up", steps)

    def _configure_and_up(self, stack: str, config: dict, log: StackLog, retried: Callable) -> dict[str, Any]:
        self.board.update(stack, "create/select")
        if retried("create/select", lambda: self.automation.ensure_stack(stack)):
            log.note(f"created stack {stack}")
        self.board.update(stack, "config")
        retried("config", lambda: self.automation.set_config(stack, config))
        self.board.update(stack, "pulumi up")
        return retried("pulumi up", lambda: self.automation.up(stack, log))

    # -- hand-outs ------------------------------------------------------------------------------------------------
    def handout(self, plan: StudentPlan) -> Outcome:
        folder = self.files.handout(plan.student.folder)

        def steps(log: StackLog, retried: Callable[[str, Callable[[], Any]], Any]) -> None:
            self.board.update(plan.stack, "outputs")
            outputs = retried("outputs", lambda: self.automation.outputs(plan.stack))
            if not outputs:
                raise ShopstreamError(f"stack {plan.stack} has no outputs yet: run `classroom up` first")
            write_handout(folder, plan.stack, outputs)

        return self._run(plan.student.student_id, plan.stack, "handout", steps)

    # -- destroy --------------------------------------------------------------------------------------------------
    def teardown(self, stack: str) -> Outcome:
        label = COURSE_LABEL if stack.endswith(f"-{COURSE_STACK_SUFFIX}") else stack.split("-", 1)[1]

        def steps(log: StackLog, retried: Callable[[str, Callable[[], Any]], Any]) -> None:
            self.board.update(stack, "pulumi destroy")
            retried("pulumi destroy", lambda: self.automation.destroy(stack, log))
            self.board.update(stack, "stack rm")
            retried("stack rm", lambda: self.automation.remove(stack))
            for folder in handouts_of(self.files, stack):
                shutil.rmtree(folder)
                log.note(f"removed hand-out {folder}")

        return self._run(label, stack, "destroy", steps)

    # -- one stack, logged, timed, retried ------------------------------------------------------------------------
    def _run(self, label: str, stack: str, operation: str, steps: Callable[..., None]) -> Outcome:
        started = time.monotonic()
        log = StackLog(self.files.log_file(stack))
        retries = 0

        def retried(what: str, action: Callable[[], T]) -> T:
            nonlocal retries
            for attempt in range(1, self.retry.attempts + 1):
                try:
                    return action()
                except StackBusyError as exc:
                    if attempt == self.retry.attempts:
                        raise StackBusyError(
                            f"still busy after {attempt} attempts: let the other update finish, or clear a stale "
                            f"lock with `pulumi cancel --stack {stack}`, then rerun"
                        ) from exc
                    delay = self.retry.delay(attempt)
                    retries += 1
                    log.note(f"{what}: stack busy ({exc}); attempt {attempt + 1} in {delay:.1f}s")
                    self.board.update(stack, f"{what}: busy, retry in {delay:.0f}s")
                    self.retry.sleep(delay)
            raise AssertionError("unreachable")

        log.note(f"classroom {operation} of {stack} ({label})")
        try:
            steps(log, retried)
            log.note(f"{operation} succeeded")
        except Exception as exc:
            known = isinstance(exc, ShopstreamError)
            message = str(exc) if known else f"unexpected {type(exc).__name__}: {exc}"
            log.note(f"failed: {message}")
            if not known:
                log(traceback.format_exc())
            self.board.update(stack, "failed")
            return Outcome(label, stack, "failed", time.monotonic() - started, retries, " ".join(message.split()))
        finally:
            log.close()
        self.board.update(stack, "ok")
        return Outcome(label, stack, "ok", time.monotonic() - started, retries)


def handouts_of(files: CohortFiles, stack: str) -> list[Path]:
    """The hand-out folders whose outputs belong to `stack` (found by content: destroy has no roster)."""
    found = []
    for outputs_file in sorted(files.handouts.glob(f"*/{OUTPUTS_FILE}")):
        try:
            if json.loads(outputs_file.read_text()).get("stack") == stack:
                found.append(outputs_file.parent)
        except (OSError, ValueError):  # unreadable, or removed meanwhile by another student's parallel destroy
            continue
    return found
