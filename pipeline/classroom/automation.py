"""The one adapter between the classroom and Pulumi: this repository's program through the Automation API.

Everything Pulumi-specific lives here (LocalWorkspace on the repository root, create/select, config, up with the
policy pack, outputs, history, destroy, remove). The orchestration talks to the `Automation` protocol, so tests
drive it with a fake; this module is the only place that needs the Pulumi CLI.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from pipeline.classroom.plan import ConfigEntry
from pipeline.errors import ShopstreamError

REPOSITORY = Path(__file__).resolve().parents[2]
POLICY_PACK = REPOSITORY / "infra" / "policies"
INSTALL_HINT = (
    "the Pulumi CLI is not installed: install it with `curl -fsSL https://get.pulumi.com | sh` "
    "(or see https://www.pulumi.com/docs/install/), run `pulumi login`, then rerun"
)
# What backends print when another update holds the stack (Pulumi Cloud's 409, the DIY backend's lock file).
_BUSY_MARKERS = ("another update is currently in progress", "currently locked by", "[409] conflict")

Log = Callable[[str], None]


class StackBusyError(ShopstreamError):
    """Another update holds the stack; worth retrying after a pause."""


class StackOperationError(ShopstreamError):
    """A Pulumi operation failed; the message is its most telling error line."""


@dataclass(frozen=True)
class StackSummary:
    stack: str
    last_result: str | None = None  # succeeded | failed | in-progress, None before the first update
    last_update: datetime | None = None
    resource_count: int | None = None


class Automation(Protocol):
    def list_stacks(self) -> list[str]: ...
    def ensure_stack(self, stack: str) -> bool: ...  # True when it had to be created
    def set_config(self, stack: str, config: Mapping[str, ConfigEntry]) -> None: ...
    def get_config(self, stack: str) -> dict[str, str]: ...
    def up(self, stack: str, log: Log) -> dict[str, Any]: ...  # the stack's outputs, secrets revealed
    def outputs(self, stack: str) -> dict[str, Any]: ...
    def summary(self, stack: str) -> StackSummary: ...
    def destroy(self, stack: str, log: Log) -> None: ...
    def remove(self, stack: str) -> None: ...


class PulumiAutomation:
    """`Automation` on a LocalWorkspace over this repository's `Pulumi.yaml` (the instructor's backend and env)."""

    def __init__(self, work_dir: Path = REPOSITORY, policy_pack: Path = POLICY_PACK):
        if shutil.which("pulumi") is None:
            raise ShopstreamError(INSTALL_HINT)
        try:
            from pulumi import automation
        except ImportError:
            raise ShopstreamError("the classroom needs the infra extra: run `make install-all`") from None

        self._auto = automation
        self._policy_packs = [str(policy_pack)]
        self._listing: dict[str, Any] | None = None
        self._listing_lock = threading.Lock()
        self._workspace = self._call(lambda: automation.LocalWorkspace(work_dir=str(work_dir)))

    def list_stacks(self) -> list[str]:
        return [summary.name for summary in self._call(self._workspace.list_stacks)]

    def ensure_stack(self, stack: str) -> bool:
        auto = self._auto
        try:
            self._call(lambda: auto.Stack.select(stack, self._workspace))
            return False
        except StackOperationError as exc:
            if not isinstance(exc.__cause__, auto.StackNotFoundError):
                raise
        try:
            self._call(lambda: auto.Stack.create(stack, self._workspace))
            return True
        except StackOperationError as exc:
            if isinstance(exc.__cause__, auto.StackAlreadyExistsError):  # created meanwhile by a parallel run
                return False
            raise

    def set_config(self, stack: str, config: Mapping[str, ConfigEntry]) -> None:
        values = {key: self._auto.ConfigValue(entry.value, secret=entry.secret) for key, entry in config.items()}
        self._call(lambda: self._workspace.set_all_config(stack, values))

    def get_config(self, stack: str) -> dict[str, str]:
        config = self._call(lambda: self._workspace.get_all_config(stack))
        return {key: value.value for key, value in config.items()}

    def up(self, stack: str, log: Log) -> dict[str, Any]:
        selected = self._call(lambda: self._auto.Stack.select(stack, self._workspace))
        self._call(
            lambda: selected.up(policy_packs=self._policy_packs, on_output=log, color="never", show_secrets=False)
        )
        return self.outputs(stack)

    def outputs(self, stack: str) -> dict[str, Any]:
        outputs = self._call(lambda: self._workspace.stack_outputs(stack))
        return {key: output.value for key, output in outputs.items()}

    def summary(self, stack: str) -> StackSummary:
        with self._listing_lock:  # one `pulumi stack ls` for a whole status table, not one per stack
            if self._listing is None:
                self._listing = {summary.name: summary for summary in self._call(self._workspace.list_stacks)}
            listed = self._listing
        selected = self._call(lambda: self._auto.Stack.select(stack, self._workspace))
        info = self._call(lambda: selected.info(show_secrets=False))
        listing = listed.get(stack)
        return StackSummary(
            stack=stack,
            last_result=info.result if info else None,
            last_update=info.end_time if info else None,
            resource_count=listing.resource_count if listing else None,
        )

    def destroy(self, stack: str, log: Log) -> None:
        selected = self._call(lambda: self._auto.Stack.select(stack, self._workspace))
        self._call(lambda: selected.destroy(on_output=log, color="never", show_secrets=False))

    def remove(self, stack: str) -> None:
        self._call(lambda: self._workspace.remove_stack(stack))

    def _call(self, operation: Callable[[], Any]) -> Any:
        """Run one Pulumi operation; its errors become StackBusyError (retryable) or StackOperationError."""
        try:
            return operation()
        except self._auto.ConcurrentUpdateError as exc:
            raise StackBusyError(error_line(str(exc))) from exc
        except self._auto.CommandError as exc:
            text = str(exc)
            if any(marker in text.lower() for marker in _BUSY_MARKERS):
                raise StackBusyError(error_line(text)) from exc
            raise StackOperationError(error_line(text)) from exc


def error_line(text: str) -> str:
    """The most telling line of Pulumi's output: the last `error:` line, else the last non-empty one."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.lower().startswith("error:") or " error: " in line.lower()]
    return (errors or lines or ["pulumi failed without a message"])[-1]
