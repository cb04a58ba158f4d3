"""The Pulumi adapter's own logic: how Pulumi's errors become 'busy, retry' or 'failed, here is why'.

The Pulumi CLI cannot run here, so the adapter's operations are exercised through the fake in the other tests;
these tests feed it the errors the Automation API itself builds from a command's output (`create_command_error`).
"""

from __future__ import annotations

import pytest
from pulumi import automation
from pulumi.automation._cmd import CommandResult
from pulumi.automation.errors import create_command_error

from pipeline.classroom.automation import PulumiAutomation, StackBusyError, StackOperationError, error_line


def adapter() -> PulumiAutomation:
    """The adapter without its workspace (building one needs the Pulumi CLI)."""
    bare = PulumiAutomation.__new__(PulumiAutomation)
    bare._auto = automation
    return bare


def failing(stderr: str, stdout: str = ""):
    def operation():
        raise create_command_error(CommandResult(stdout=stdout, stderr=stderr, code=255))

    return operation


@pytest.mark.parametrize(
    "stderr",
    [
        "error: [409] Conflict: Another update is currently in progress.",
        "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end",
    ],
)
def test_another_update_in_progress_is_busy(stderr: str):
    with pytest.raises(StackBusyError, match="error:"):
        adapter()._call(failing(stderr))


def test_other_failures_keep_the_telling_line_and_the_cause():
    stdout = "Updating (fall26-alice)\n  snowflake:index:Database  creating\n"
    stderr = (
        "warning: slow\nerror: update failed\n"
        "    error: 003001 (42501): SQL access control error: Insufficient privileges\n"
    )
    with pytest.raises(StackOperationError) as failed:
        adapter()._call(failing(stderr, stdout))
    assert str(failed.value) == "error: 003001 (42501): SQL access control error: Insufficient privileges"
    assert isinstance(failed.value.__cause__, automation.CommandError)


def test_a_missing_stack_is_recognisable_for_create_or_select():
    with pytest.raises(StackOperationError) as failed:
        adapter()._call(failing("error: no stack named 'fall26-alice' found"))
    assert isinstance(failed.value.__cause__, automation.StackNotFoundError)


def test_error_line_without_an_error_line():
    assert error_line("\n  plugin crashed  \n\n") == "plugin crashed"
    assert error_line("") == "pulumi failed without a message"
