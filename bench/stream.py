"""The stream scenario: a fresh local stack, base data, then `shopstream stream` for a while; its report is the result.

python -m bench.stream                                   # 120 s at speed 60 (two simulated hours), 5 s batches
python -m bench.stream --duration 30 --report /tmp/stream.json

Latency (commit in PostgreSQL → visible in the live marts) and refresh times are measured by the stream itself on
this machine; nothing is asserted here. The report is the `--report` JSON of `shopstream stream`.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from bench.harness import free_port, running_stack, scratch_dir, shopstream_command, stack_env
from bench.measure import run_process

STACK = "benchstream"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.stream", description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=float, default=120.0, help="real seconds of streaming (default 120)")
    p.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second (default 60)")
    p.add_argument("--batch-seconds", type=float, default=5.0, help="seconds between batches (default 5)")
    p.add_argument("--scale", type=float, default=0.1, help="scale of the base data (default 0.1)")
    p.add_argument("--report", type=Path, default=Path("stream-report.json"), help="where to write the JSON")
    p.add_argument("--workdir", type=Path, help="keep the stack and logs here (default: a temporary folder)")
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
        print(json.dumps(report, indent=2))
        return report
    finally:
        if created:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
