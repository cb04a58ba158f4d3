"""A fake of the classroom's one Pulumi adapter (`pipeline.classroom.automation.Automation`).

The Pulumi CLI, its engine and the cloud providers cannot run here, so the class-level orchestration is tested
against this stand-in. It keeps a backend (stacks with config, outputs, history) that outlives one command, so a
rerun sees what an earlier run left; it records every call; and it fails on demand: busy a number of times
(another update in progress), failing for good, or crashing the whole process.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pipeline.classroom.automation import StackBusyError, StackOperationError, StackSummary
from pipeline.classroom.plan import ConfigEntry
from pipeline.naming import StackNames


class Crash(BaseException):
    """The instructor's process dies (power cut, closed laptop) in the middle of a class."""


@dataclass
class FakeStack:
    config: dict[str, ConfigEntry] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    history: list[tuple[str, str]] = field(default_factory=list)  # (kind, result)
    resources: int = 0


@dataclass
class FakeBackend:
    stacks: dict[str, FakeStack] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    created: Counter = field(default_factory=Counter)
    busy: Counter = field(default_factory=Counter)  # (operation, stack) -> times still busy
    failures: dict[tuple[str, str], str] = field(default_factory=dict)  # (operation, stack) -> error line
    crashes: set[tuple[str, str]] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def calls_for(self, stack: str) -> list[str]:
        return [operation for operation, called in self.calls if called == stack]


class FakeAutomation:
    def __init__(self, backend: FakeBackend):
        self.backend = backend

    def _enter(self, operation: str, stack: str) -> None:
        key = (operation, stack)
        with self.backend.lock:
            self.backend.calls.append(key)
            if key in self.backend.crashes:
                self.backend.crashes.discard(key)
                raise Crash(f"crash during {operation} of {stack}")
            if self.backend.busy[key] > 0:
                self.backend.busy[key] -= 1
                raise StackBusyError(f"error: [409] Conflict: Another update is currently in progress ({stack})")
            if key in self.backend.failures:
                if operation == "up" and stack in self.backend.stacks:
                    self.backend.stacks[stack].history.append(("update", "failed"))
                raise StackOperationError(self.backend.failures[key])

    def _stack(self, stack: str) -> FakeStack:
        if stack not in self.backend.stacks:
            raise StackOperationError(f"error: no stack named '{stack}' found")
        return self.backend.stacks[stack]

    def list_stacks(self) -> list[str]:
        self._enter("list", "*")
        return sorted(self.backend.stacks)

    def ensure_stack(self, stack: str) -> bool:
        self._enter("ensure", stack)
        with self.backend.lock:
            if stack in self.backend.stacks:
                return False
            self.backend.stacks[stack] = FakeStack()
            self.backend.created[stack] += 1
            return True

    def set_config(self, stack: str, config) -> None:
        self._enter("config", stack)
        self._stack(stack).config = dict(config)

    def get_config(self, stack: str) -> dict[str, str]:
        self._enter("get_config", stack)
        return {key: entry.value for key, entry in self._stack(stack).config.items()}

    def up(self, stack: str, log) -> dict[str, Any]:
        self._enter("up", stack)
        state = self._stack(stack)
        log(f"Updating ({stack}):\n  + 42 created\nResources:\n    42 total")
        state.outputs = outputs_of(stack, state.config)
        state.resources = 42
        state.history.append(("update", "succeeded"))
        return dict(state.outputs)

    def outputs(self, stack: str) -> dict[str, Any]:
        self._enter("outputs", stack)
        return dict(self._stack(stack).outputs)

    def summary(self, stack: str) -> StackSummary:
        self._enter("summary", stack)
        state = self._stack(stack)
        last = state.history[-1][1] if state.history else None
        when = datetime(2026, 12, 1, 9, 30, tzinfo=UTC) if state.history else None
        return StackSummary(stack, last, when, state.resources)

    def destroy(self, stack: str, log) -> None:
        self._enter("destroy", stack)
        state = self._stack(stack)
        log(f"Destroying ({stack}): - {state.resources} deleted")
        state.resources, state.outputs = 0, {}
        state.history.append(("destroy", "succeeded"))

    def remove(self, stack: str) -> None:
        self._enter("remove", stack)
        with self.backend.lock:
            self._stack(stack)
            del self.backend.stacks[stack]


def outputs_of(stack: str, config: dict[str, ConfigEntry]) -> dict[str, Any]:
    """What the real program exports, computed from the naming module (secrets included, as `up` reveals them)."""
    if config.get("shopstream:course", ConfigEntry("false")).value == "true":
        return {"stack": stack, "grader_role": "GRADER", "grader_warehouse": "GRADING"}
    names = StackNames(stack)
    return {
        "stack": stack,
        "lake_bucket": names.bucket,
        "lake_uri": names.lake_uri,
        "aws_region": config["aws:region"].value,
        "pipeline_access_key_id": f"AKIA{stack.upper().replace('-', '')[:12]}",
        "pipeline_secret_access_key": f"secret-of-{stack}",
        "snowflake_account": "SCHOOL-DATA101",
        "snowflake_database": names.database,
        "snowflake_schemas": names.schemas,
        "snowflake_warehouses": names.warehouses,
        "snowflake_role": names.role,
        "snowflake_stage": names.stage,
        "snowflake_parquet_format": names.parquet_format,
        "snowflake_csv_format": names.csv_format,
        "variant_seed": int(config["shopstream:variantSeed"].value),
    }
