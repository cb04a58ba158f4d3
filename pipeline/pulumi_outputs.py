"""A stack's outputs, from a JSON file or from the Pulumi CLI, with errors that say what went wrong.

`pulumi stack output --json --show-secrets --stack NAME` fails in four ways, each with its own fix: the CLI is not
installed, it is not logged in to a backend, the stack does not exist, or the outputs are not readable JSON. Each
has its own error class; all are `ConfigError`s (one line, exit code 2).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError, brief

PROJECT_DIR = Path(__file__).resolve().parents[1]  # where Pulumi.yaml is
TIMEOUT_S = 120


class PulumiError(ConfigError):
    """The Pulumi CLI could not give the stack's outputs."""


class NoPulumiCli(PulumiError):
    """`pulumi` is not on PATH."""


class PulumiNotLoggedIn(PulumiError):
    """The CLI has no backend to ask (`pulumi login` never ran, or its token expired)."""


class UnknownPulumiStack(PulumiError):
    """The backend has no stack of that name."""


class OutputsUnreadable(PulumiError):
    """The CLI answered, but not with a JSON object of outputs."""


_NOT_LOGGED_IN = ("not logged in", "pulumi login", "pulumi_access_token", "no credentials")
_NO_STACK = ("no stack named", "not found", "does not exist")


def stack_outputs(stack: str, executable: str = "pulumi") -> dict[str, Any]:
    """The stack's outputs as a dict (secrets shown: never print them)."""
    if shutil.which(executable) is None:
        raise NoPulumiCli("the Pulumi CLI is not installed (https://www.pulumi.com/docs/install/)")
    try:
        result = subprocess.run(
            [executable, "stack", "output", "--json", "--show-secrets", "--stack", stack],
            capture_output=True,
            text=True,
            cwd=PROJECT_DIR,
            check=False,
            timeout=TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        raise OutputsUnreadable(f"`pulumi stack output` for stack {stack!r} timed out after {TIMEOUT_S} s") from None
    if result.returncode != 0:
        reason = brief(result.stderr or result.stdout or f"exit code {result.returncode}")
        lowered = reason.lower()
        if any(marker in lowered for marker in _NOT_LOGGED_IN):
            raise PulumiNotLoggedIn(f"the Pulumi CLI is not logged in: run `pulumi login` ({reason})")
        if any(marker in lowered for marker in _NO_STACK):
            raise UnknownPulumiStack(f"Pulumi has no stack {stack!r}")
        raise OutputsUnreadable(f"cannot read the outputs of Pulumi stack {stack!r}: {reason}")
    try:
        outputs = json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        raise OutputsUnreadable(f"the outputs of Pulumi stack {stack!r} are not JSON ({exc.msg})") from None
    if not isinstance(outputs, dict):
        raise OutputsUnreadable(f"the outputs of Pulumi stack {stack!r} are not a JSON object")
    return outputs


def read_outputs_file(path: Path) -> dict[str, Any]:
    """Stack outputs exported to a file (`pulumi stack output --json --show-secrets > FILE`)."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"outputs file {path} does not exist") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"outputs file {path} is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"outputs file {path} must hold a JSON object of stack outputs")
    return data
