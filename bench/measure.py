"""Run one benchmark step in its own process and measure it: wall time and the peak RSS of that process tree.

Each step is a child process, so one step's memory never shows up in the next one's peak. The peak comes from
`wait4`: the kernel's high-water mark of the child's resident set, and of its own children's,
i.e. the largest single process of the step. The source PostgreSQL server is not a child of any step, so its
memory is not in these numbers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Measurement:
    """One measured step: `seconds` is the step's own time (without interpreter start-up when it reports it)."""

    name: str
    rows: int
    seconds: float
    peak_rss_bytes: int
    detail: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


class StepFailed(RuntimeError):
    """A measured step exited with an error; the message ends with the tail of its output."""


def run_process(name: str, command: list[str], env: dict[str, str], log_file: Path) -> tuple[float, int]:
    """Run `command` to completion with its output appended to `log_file`; (wall seconds, peak RSS bytes)."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        log.write(f"\n$ {' '.join(command)}\n".encode())
        log.flush()
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:
            process.kill()
            process.wait()
            raise
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4: tell Popen not to wait again
    if process.returncode != 0:
        raise StepFailed(f"{name} exited with code {process.returncode}: {tail(log_file)}")
    return seconds, _max_rss_bytes(usage.ru_maxrss)


def run_stage(name: str, stage: str, params: dict, env: dict[str, str], log_file: Path) -> Measurement:
    """Run `bench.stage` STAGE in a child Python; its own report gives rows, seconds and detail."""
    with tempfile.TemporaryDirectory(prefix="shopstream-bench-") as scratch:
        result_file = Path(scratch) / "result.json"
        command = [sys.executable, "-m", "bench.stage", stage, json.dumps(params), str(result_file)]
        _, peak = run_process(name, command, env, log_file)
        result = json.loads(result_file.read_text())
    return Measurement(
        name=name,
        rows=int(result["rows"]),
        seconds=float(result["seconds"]),
        peak_rss_bytes=peak,
        detail=result.get("detail", ""),
        extra=result.get("extra", {}),
    )


def tail(log_file: Path, lines: int = 3) -> str:
    """The last non-empty lines of a log, on one line."""
    try:
        text = log_file.read_text(errors="replace")
    except FileNotFoundError:
        return "(no output)"
    kept = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
    return " | ".join(kept) or "(no output)"


def _max_rss_bytes(ru_maxrss: int) -> int:
    return ru_maxrss if sys.platform == "darwin" else ru_maxrss * 1024  # Linux reports KiB, macOS bytes
