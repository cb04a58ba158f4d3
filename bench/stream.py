"""The stream scenario: a fresh local stack, base data, then `shopstream stream` for a while; its report is the result.

python -m bench.stream                                   # 120 s at speed 60 (two simulated hours), 5 s batches
python -m bench.stream --duration 30 --report /tmp/stream.json
python -m bench.stream --history-days 10                 # then: refresh time on simulated day 1 and day 10

Latency (commit in PostgreSQL → visible in the live marts) and refresh times are measured by the stream itself on
this machine; nothing is asserted here. The report is the `--report` JSON of `shopstream stream`, with the history
scenario's figures under `history` (see bench/stream_history.py).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

from bench.harness import free_port, running_stack, scratch_dir, shopstream_command, stack_env
from bench.measure import run_process

STACK = "benchstream"
HISTORY_STACK = "benchhistory"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.stream", description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=float, default=120.0, help="real seconds of streaming (default 120)")
    p.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second (default 60)")
    p.add_argument("--batch-seconds", type=float, default=5.0, help="seconds between batches (default 5)")
    p.add_argument("--scale", type=float, default=0.1, help="scale of the base data (default 0.1)")
    p.add_argument("--report", type=Path, default=Path("stream-report.json"), help="where to write the JSON")
    p.add_argument("--workdir", type=Path, help="keep the stack and logs here (default: a temporary folder)")
    p.add_argument(
        "--history-days", type=int, default=0, help="also time refreshes on simulated day 1 and this day (e.g. 10)"
    )
    return p


def main(argv: list[str] | None = None) -> dict:
    args = parser().parse_args(argv)
    workdir, created = scratch_dir(args.workdir)
    env = stack_env(workdir / "home", free_port())
    log_file = workdir / "bench-stream.log"
    command = shopstream_command()
    try:
        with running_stack(STACK, env, log_file):
            run_process("generate", [*command, "generate", "--stack", STACK, "--scale", str(args.scale)], env, log_file)
            options = {"--duration": args.duration, "--speed": args.speed, "--batch-seconds": args.batch_seconds}
            stream = [*command, "stream", "--stack", STACK, "--report", str(args.report.resolve())]
            stream += [part for option, value in options.items() for part in (option, str(value))]
            run_process("stream", stream, env, log_file)
        report = json.loads(args.report.read_text())
        if args.history_days:
            report["history"] = _history(env, log_file, args.scale, args.history_days)
            args.report.write_text(json.dumps(report, indent=2) + "\n")
        print(json.dumps(report, indent=2))
        return report
    finally:
        if created:
            shutil.rmtree(workdir, ignore_errors=True)


def _history(env: dict[str, str], log_file: Path, scale: float, days: int) -> dict:
    """The history scenario on a second fresh stack, run in this process (its steps are the stream's own)."""
    from bench.stream_history import measure_history
    from pipeline.settings import resolve_settings

    command = shopstream_command()
    with running_stack(HISTORY_STACK, env, log_file):
        run_process("generate", [*command, "generate", "--stack", HISTORY_STACK, "--scale", str(scale)], env, log_file)
        saved = dict(os.environ)
        os.environ.update(env)
        try:
            return measure_history(resolve_settings(HISTORY_STACK), days=days)
        finally:
            os.environ.clear()
            os.environ.update(saved)


if __name__ == "__main__":
    main()
