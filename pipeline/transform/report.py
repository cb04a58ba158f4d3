"""What a dbt invocation did: from the results dbt returns in-process, or from the `run_results.json` it wrote."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# dbt statuses: models and unit tests "success" / "error" / "skipped"; data tests "pass" / "fail" / "warn" / "error".
FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})
TEST_TYPES = frozenset({"test", "unit_test"})
BUILT_TYPES = frozenset({"model", "seed", "snapshot"})


@dataclass(frozen=True)
class NodeResult:
    """One node of the build: a model, a data test or a unit test."""

    unique_id: str
    name: str
    resource_type: str
    status: str
    seconds: float
    message: str | None = None
    failures: int | None = None  # rows a data test returned

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES

    def describe(self) -> str:
        detail = f": {self.message}" if self.message and self.failed else ""
        return f"{self.resource_type} {self.name} ({self.status}){detail}"


@dataclass
class TransformReport:
    """Outcome of `dbt build` for one stack."""

    target: str
    nodes: list[NodeResult] = field(default_factory=list)
    seconds: float = 0.0
    log_path: Path | None = None
    unchanged: bool = False  # nothing ran: RAW, the project and the vars are those of the last successful build
    unit_tests_passed_before: int = 0  # unit tests left out: they passed before for this project on this engine

    def _count(self, types: frozenset[str], statuses: set[str]) -> int:
        return sum(1 for node in self.nodes if node.resource_type in types and node.status in statuses)

    @property
    def models_built(self) -> int:
        return self._count(BUILT_TYPES, {"success"})

    @property
    def tests_passed(self) -> int:
        return self._count(TEST_TYPES, {"pass", "success"})

    @property
    def tests_failed(self) -> int:
        return self._count(TEST_TYPES, set(FAILED_STATUSES))

    @property
    def tests_warned(self) -> int:
        return self._count(TEST_TYPES, {"warn"})

    @property
    def skipped(self) -> int:
        return sum(1 for node in self.nodes if node.status == "skipped")

    @property
    def failures(self) -> list[str]:
        """One line per failed node (models that errored, tests that failed)."""
        return [node.describe() for node in self.nodes if node.failed]

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def ok(self) -> bool:
        return not self.failures

    def node(self, name: str) -> NodeResult:
        """The result of the node called `name` (model or test), for callers that inspect one node."""
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)


def node_name(unique_id: str) -> str:
    """`model.shopstream.dim_date` → dim_date; data tests end with a hash, unit tests start with their model."""
    parts = unique_id.split(".")
    return parts[3] if parts[0] == "unit_test" and len(parts) > 3 else parts[2]


def read_run_results(path: Path, target: str, log_path: Path | None = None) -> TransformReport:
    """Build a report from dbt's run_results.json."""
    return report_from_results(json.loads(path.read_text()), target, log_path)


def report_from_execution(execution: Any, target: str, log_path: Path | None = None) -> TransformReport:
    """Build a report from the `RunExecutionResult` dbtRunner returns (no run_results.json needed)."""
    results = [
        {
            "unique_id": result.node.unique_id,
            "status": getattr(result.status, "value", result.status),
            "execution_time": result.execution_time,
            "message": result.message,
            "failures": result.failures,
        }
        for result in execution.results
    ]
    return report_from_results({"results": results, "elapsed_time": execution.elapsed_time}, target, log_path)


def report_from_results(data: dict, target: str, log_path: Path | None = None) -> TransformReport:
    """Build a report from run_results data: {"results": [{unique_id, status, execution_time, …}], "elapsed_time"}."""
    nodes = [
        NodeResult(
            unique_id=result["unique_id"],
            name=node_name(result["unique_id"]),
            resource_type=result["unique_id"].split(".")[0],
            status=str(result["status"]).lower(),
            seconds=round(float(result.get("execution_time") or 0.0), 3),
            message=result.get("message"),
            failures=result.get("failures"),
        )
        for result in data.get("results", [])
    ]
    return TransformReport(
        target=target,
        nodes=nodes,
        seconds=round(float(data.get("elapsed_time") or 0.0), 3),
        log_path=log_path,
    )
