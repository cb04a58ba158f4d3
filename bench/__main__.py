"""`python -m bench` (or `make bench`): measure the local road at several scales and write docs/BENCHMARKS.md.

python -m bench                                    # SF 1, 10, 100; the course's approach at SF 1 and 10
python -m bench --quick                            # SF 0.1 and 1, the course's approach at SF 0.1
python -m bench --scales 0.02 --baseline-scales 0.02 --out /tmp/BENCH.md
"""

from __future__ import annotations

import argparse
import functools
import os
import shlex
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from bench import baseline
from bench.harness import ScaleResult, bench_scale, scratch_dir, warm_up
from bench.machine import describe_machine, load_average
from bench.measure import StepFailed, run_process
from bench.report import render
from pipeline.generate import MAX_SCALE

DEFAULT_SCALES = "1,10,100"
DEFAULT_BASELINE_SCALES = "1,10"
QUICK_SCALES = "0.1,1"
QUICK_BASELINE_SCALES = "0.1"
SUITE_OPTIONS = ("-n", "auto", "--dist", "loadscope")  # as `make test` runs it (the Makefile's PYTEST_PARALLEL)
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "docs" / "BENCHMARKS.md"


def scales(text: str) -> list[float]:
    """Comma-separated positive scale factors (`none` or empty: no scale)."""
    if text.strip().lower() in {"", "none"}:
        return []
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers, e.g. 1,10,100") from None
    if any(not 0 < value <= MAX_SCALE for value in values):
        raise argparse.ArgumentTypeError(f"scale factors must be greater than 0 and at most {MAX_SCALE}")
    return sorted(set(values))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench", description="Measure the local road at several scales and write docs/BENCHMARKS.md."
    )
    p.add_argument("--scales", type=scales, help=f"scale factors to run (default {DEFAULT_SCALES})")
    p.add_argument(
        "--baseline-scales",
        type=scales,
        help=f"scales at which the course's approach also runs (default {DEFAULT_BASELINE_SCALES}; `none` to skip)",
    )
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="report file (default docs/BENCHMARKS.md)")
    p.add_argument("--seed", type=int, default=42, help="random seed of the generated data (default 42)")
    p.add_argument("--no-rerun", dest="rerun", action="store_false", help="skip the second `shopstream run`")
    p.add_argument(
        "--no-warm-up",
        dest="warm_up",
        action="store_false",
        help="skip the unmeasured tiny run that caches bytecode first (the first steps then pay for it)",
    )
    p.add_argument("--workdir", type=Path, help="keep stacks' logs here (default: a temporary folder, deleted)")
    p.add_argument(
        "--test-suite",
        action="store_true",
        help="also time the whole test suite (`pytest`) once, after the scales (several minutes)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"a short run: --scales {QUICK_SCALES} --baseline-scales {QUICK_BASELINE_SCALES} unless given",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    run_scales = args.scales if args.scales is not None else scales(QUICK_SCALES if args.quick else DEFAULT_SCALES)
    baseline_default = QUICK_BASELINE_SCALES if args.quick else DEFAULT_BASELINE_SCALES
    baseline_scales = set(args.baseline_scales if args.baseline_scales is not None else scales(baseline_default))
    missing = sorted(baseline_scales - set(run_scales))
    if missing:
        parser().error(f"--baseline-scales {', '.join(f'{s:g}' for s in missing)} not in --scales")

    machine = describe_machine()
    workdir, temporary = scratch_dir(args.workdir)
    log = functools.partial(print, flush=True)
    results: list[ScaleResult] = []
    try:
        if args.warm_up:
            warm_up(workdir, args.seed, log)
        for scale in run_scales:
            log(f"SF {scale:g}")
            with_baseline = scale in baseline_scales
            result = bench_scale(
                scale, seed=args.seed, baseline=with_baseline, rerun=args.rerun, workdir=workdir, log=log
            )
            results.append(result)
        suite_seconds = time_test_suite(workdir, log) if args.test_suite else None
    except StepFailed as exc:  # only the warm-up raises: a failing step inside a scale is recorded in its result
        print(f"the local stack does not run, nothing measured: {exc}", file=sys.stderr)
        return 1
    finally:
        if temporary:
            shutil.rmtree(workdir, ignore_errors=True)
    machine["Load average at end (1/5/15 min)"] = load_average()
    versions = {r.postgres_version for r in results if r.postgres_version}
    machine["PostgreSQL"] = ", ".join(sorted(versions)) or "not reached"
    if baseline_scales:
        machine["Course baseline driver"] = baseline.batch_driver()
    command = "python -m bench " + shlex.join(argv if argv is not None else sys.argv[1:])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(results, machine, command.strip(), suite_seconds))
    print(f"report written to {args.out}")
    failed = [r for r in results if r.errors]
    return 1 if failed else 0


def time_test_suite(workdir: Path, log: Callable[[str], None]) -> float | None:
    """Wall seconds of the whole test suite as `make test` runs it (None when it fails: a failing suite has no
    time worth reporting; its output is in the log)."""
    log("test suite: pytest …")
    log_file = workdir / "logs" / "pytest.log"
    try:
        command = [sys.executable, "-m", "pytest", "-q", *SUITE_OPTIONS]
        seconds, _ = run_process("pytest", command, dict(os.environ), log_file)
    except StepFailed as exc:
        log(f"  ✗ {exc}")
        return None
    log(f"  test suite: {seconds:.0f} s")
    return seconds


if __name__ == "__main__":
    sys.exit(main())
