"""The CLI starts and ends fast. It starts without the road's heavy libraries: `shopstream --help`, a typo or
`status` of a missing stack answer in well under a second because Arrow, DuckDB, numpy, psycopg, pandas and dbt load
only in the command that needs them. A module-level import of any of them in a module the CLI imports at start-up
fails this test. It ends without tearing the interpreter down, yet with every exit code, all its output, and the
work of any thread still running."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

from pipeline.settings import ENV_HOME

HEAVY = ("pyarrow", "duckdb", "numpy", "pandas", "psycopg", "dbt", "adbc_driver_manager", "sklearn")

PROBE = """
import sys
import pipeline.cli
print(",".join(sorted({name.split(".")[0] for name in sys.modules} & set(sys.argv[1].split(",")))))
"""


def test_the_cli_imports_no_heavy_library_at_start_up() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(HEAVY)], capture_output=True, text=True, check=True
    ).stdout.strip()

    assert loaded == "", f"imported when the CLI starts: {loaded}"


def _program(*args: str, home: str) -> subprocess.CompletedProcess[str]:
    """The installed `shopstream` program (pipeline.cli.main), as a user runs it."""
    script = [sys.executable, "-c", "import sys; from pipeline.cli import main; sys.argv[0] = 'shopstream'; main()"]
    return subprocess.run(
        [*script, *args], capture_output=True, text=True, env={**os.environ, ENV_HOME: home}, timeout=60
    )


def test_the_program_exits_with_each_outcome_code_and_all_its_output(tmp_path: Path) -> None:
    """`main` ends the process itself, without the interpreter's tear-down: each outcome keeps its exit code (an
    `os._exit(0)` fails here) and its whole output."""
    helped = _program("--help", home=str(tmp_path))
    mistyped = _program("no-such-command", home=str(tmp_path))
    refused = _program("run", "--local", "--scale", "-1", home=str(tmp_path))
    missing = _program("transform", "--local", "--stack", "nowhere", home=str(tmp_path))

    help_text = " ".join(helped.stdout.split())
    assert helped.returncode == 0 and help_text.endswith("then shopstream status."), help_text[-200:]
    assert mistyped.returncode == 2 and "No such command" in mistyped.stderr
    assert refused.returncode == 1 and refused.stderr.startswith("error: --scale must be positive")
    assert missing.returncode == 1 and "run `shopstream load --stack nowhere` first" in " ".join(missing.stderr.split())


LATE_WRITER = """
import sys, threading, time
from pathlib import Path
import pipeline.cli

def command():
    def write_late():
        time.sleep(0.5)
        Path(sys.argv[1]).write_text("written")
    threading.Thread(target=write_late).start()
    sys.exit(4)

pipeline.cli.app = command
pipeline.cli.main()
"""


def test_the_program_waits_for_a_thread_still_working(tmp_path: Path) -> None:
    """A command that returns while a (non-daemon) thread of its still writes: the process exits only after the
    thread is done, with the command's exit code. Ending the process at once would lose the file."""
    target = tmp_path / "late.txt"

    done = subprocess.run([sys.executable, "-c", LATE_WRITER, str(target)], capture_output=True, text=True)

    assert done.returncode == 4, done.stderr
    assert target.read_text() == "written"


COLLECTOR_AFTER_DBT = """
import atexit, gc, sys
from pipeline.cli import main
from pipeline.transform.runner import collector_paused

def report():
    with collector_paused():  # as around each dbt command
        pass
    print("collector", "on" if gc.isenabled() else "paused", "after dbt")

atexit.register(report)
sys.argv[0] = "shopstream"
main()
"""


def test_only_a_program_that_ends_with_its_build_leaves_the_collector_paused(tmp_path: Path) -> None:
    """`shopstream transform` and `shopstream run` end when their build does: the collector stays paused after dbt
    (resuming it would scan every object dbt left, about 0.3 s, to free memory the exit gives back anyway). Any other
    command resumes it, and so do these commands run inside a process that goes on (here: this test session)."""

    def after(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", COLLECTOR_AFTER_DBT, *args],
            capture_output=True, text=True, env={**os.environ, ENV_HOME: str(tmp_path)}, timeout=60,
        )  # fmt: skip
        return done.stdout.strip().splitlines()[-1]

    assert after("transform", "--local", "--stack", "nowhere") == "collector paused after dbt"
    assert after("run", "--local", "--scale", "-1") == "collector paused after dbt"
    assert after("status", "--stack", "nowhere") == "collector on after dbt"

    from typer.testing import CliRunner

    from pipeline.cli import app
    from pipeline.transform.runner import collector_paused

    CliRunner().invoke(app, ["transform", "--local", "--stack", "nowhere"], env={ENV_HOME: str(tmp_path)})
    with collector_paused():
        pass
    assert gc.isenabled()
