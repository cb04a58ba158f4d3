"""docs/BENCHMARKS.md from measured results: machine, one table per scale, ratios against the course, targets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.harness import (
    STEP_BASELINE_EXPORT,
    STEP_BASELINE_GENERATE,
    STEP_EXTRACT,
    STEP_GENERATE,
    STEP_RERUN,
    STEP_RUN,
    STEP_TRANSFORM_COMMAND,
    WARM_RUN,
    ScaleResult,
)
from bench.measure import Measurement

MIB = 2**20
BIGGEST_TABLES = 2  # extract speed is judged on the tables with the most rows


@dataclass(frozen=True)
class Target:
    """A goal from the benchmark issue and where the measurement stands against it."""

    name: str
    goal: str
    measured: str  # "" when the scale it needs was not run
    met: bool | None  # None: not measured
    gap: str  # how far from (or past) the goal, in words

    @property
    def status(self) -> str:
        if self.met is None:
            return "not measured"
        return "met" if self.met else "missed"


def render(
    results: Sequence[ScaleResult], machine: dict[str, str], command: str, test_suite_seconds: float | None = None
) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Per-stage throughput and end-to-end time of the local road at growing scale, against the course's",
        f"original approach. This file is written by the benchmark harness (`{command}`); rerun it rather than",
        "editing by hand.",
        "",
        *_how_to_run(),
        *_definitions(),
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {label} | {value} |" for label, value in machine.items()),
        "",
        "## Results",
        "",
    ]
    for result in results:
        lines += _scale_section(result)
    lines += _targets_section(evaluate_targets(results))
    lines += _speed_section(evaluate_speed_goals(results, test_suite_seconds))
    return "\n".join(lines).rstrip() + "\n"


def evaluate_targets(results: Sequence[ScaleResult]) -> list[Target]:
    by_scale = {r.scale: r for r in results}

    def step(scale: float, name: str) -> Measurement | None:
        return by_scale[scale].step(name) if scale in by_scale else None

    targets = []
    ours, course = step(1, STEP_GENERATE), step(1, STEP_BASELINE_GENERATE)
    ratio = course.seconds / ours.seconds if ours and course else None
    targets.append(_at_least("generate + load at SF 1 vs the course", 100, ratio, "x", "SF 1 with its baseline"))
    generate_100 = step(100, STEP_GENERATE)
    targets.append(
        _below("generate + load at SF 100", 30, generate_100.seconds if generate_100 else None, " s", "SF 100")
    )
    largest = max(by_scale, default=None)
    rates = biggest_table_rates(step(largest, STEP_EXTRACT)) if largest is not None else {}
    slowest = min(rates.values(), default=None)
    name = f"extract, biggest tables ({', '.join(rates) or 'none'}) at SF {largest:g}" if rates else "extract speed"
    targets.append(_at_least(name, 500_000, slowest, " rows/s", "an extract"))
    run_1, run_10, run_100 = step(1, STEP_RUN), step(10, STEP_RUN), step(100, STEP_RUN)
    targets.append(_below("`shopstream run` at SF 1, warm", 30, run_1.seconds if run_1 else None, " s", "SF 1"))
    targets.append(
        _below("`shopstream run` at SF 100, warm", 120, run_100.seconds if run_100 else None, " s", "SF 100")
    )
    growth = run_100.seconds / run_10.seconds if run_10 and run_100 else None
    targets.append(_below("run time SF 100 / SF 10", 12, growth, "x", "SF 10 and SF 100", inclusive=True))
    return targets


def evaluate_speed_goals(results: Sequence[ScaleResult], test_suite_seconds: float | None = None) -> list[Target]:
    """The speed goals: dbt's fixed cost, warm runs, unchanged re-runs, the bulk load, the test suite."""
    by_scale = {r.scale: r for r in results}

    def seconds(scale: float, name: str) -> float | None:
        measured = by_scale[scale].step(name) if scale in by_scale else None
        return measured.seconds if measured else None

    ours, course = seconds(10, STEP_GENERATE), seconds(10, STEP_BASELINE_GENERATE)
    ratio = course / ours if ours and course else None
    suite_minutes = test_suite_seconds / 60 if test_suite_seconds is not None else None
    return [
        _below("`shopstream run` SF 1, warm", 8, seconds(1, STEP_RUN), " s", "SF 1"),
        _below("`shopstream run` SF 100, warm", 35, seconds(100, STEP_RUN), " s", "SF 100"),
        _below("dbt build step SF 1 (whole command)", 5, seconds(1, STEP_TRANSFORM_COMMAND), " s", "SF 1"),
        _below("re-run on unchanged data SF 1", 4, seconds(1, STEP_RERUN), " s", "SF 1 with the re-run"),
        _below("generate + PostgreSQL load SF 100", 12, seconds(100, STEP_GENERATE), " s", "SF 100"),
        _at_least("generate + load vs the course SF 10", 50, ratio, "x", "SF 10 with its baseline"),
        _below("test suite (`pytest`, install excluded)", 5, suite_minutes, " min", "--test-suite"),
    ]


def biggest_table_rates(extract: Measurement | None) -> dict[str, float]:
    """Rows/s of the extract's largest tables: rows / (fetch + Arrow conversion) of each."""
    if extract is None:
        return {}
    tables = extract.extra.get("tables", {})
    biggest = sorted(tables, key=lambda t: tables[t]["rows"], reverse=True)[:BIGGEST_TABLES]
    return {t: tables[t]["rows"] / tables[t]["fetch_seconds"] for t in biggest if tables[t]["fetch_seconds"] > 0}


def _scale_section(result: ScaleResult) -> list[str]:
    generated = result.step(STEP_GENERATE)
    rows = f" ({generated.rows:,} source rows)" if generated else ""
    lines = [
        f"### SF {result.scale:g}{rows}",
        "",
        "| step | rows | seconds | rows/s | peak RSS (MiB) | detail |",
        "|---|--:|--:|--:|--:|---|",
    ]
    for m in [*result.steps, *result.runs, *result.baseline]:
        lines.append(
            f"| {m.name} | {m.rows:,} | {m.seconds:.2f} | {m.rows_per_second:,.0f} | "
            f"{m.peak_rss_bytes / MIB:,.0f} | {m.detail} |"
        )
    lines.append("")
    rates = biggest_table_rates(result.step(STEP_EXTRACT))
    if rates:
        per_table = ", ".join(f"{t} {r:,.0f} rows/s" for t, r in rates.items())
        lines += [f"Extract of the biggest tables (fetch + Arrow conversion): {per_table}", ""]
    ratio_lines = [
        _ratio_line("generate + load", result.step(STEP_GENERATE), result.step(STEP_BASELINE_GENERATE)),
        _ratio_line("extract", result.step(STEP_EXTRACT), result.step(STEP_BASELINE_EXPORT)),
    ]
    lines += [f"- {line}" for line in ratio_lines if line]
    if any(ratio_lines):
        lines.append("")
    for error in result.errors:
        lines += [f"**Failed:** {error}", ""]
    return lines


def _ratio_line(what: str, ours: Measurement | None, course: Measurement | None) -> str:
    if ours is None or course is None or ours.seconds <= 0 or course.seconds <= 0:
        return ""
    ratio = course.seconds / ours.seconds
    verdict = f"{ratio:,.1f}x faster" if ratio >= 1 else f"{1 / ratio:,.1f}x slower"
    return f"Ratio, {what}: course {course.seconds:.2f} s, ShopStream {ours.seconds:.2f} s → **{verdict}**"


def _targets_section(targets: list[Target]) -> list[str]:
    lines = [
        "## Targets",
        "",
        "Goals of the benchmark issue, not test assertions.",
        "",
        "| target | goal | measured | status | how far |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {t.name} | {t.goal} | {t.measured or '—'} | {t.status} | {t.gap} |" for t in targets]
    return [*lines, ""]


def _speed_section(goals: list[Target]) -> list[str]:
    lines = [
        "## Speed goals",
        "",
        "Speed goals (dbt's fixed cost, skipping unchanged builds, the bulk load, the test suite).",
        "",
        "| figure | goal | measured | status | how far |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {t.name} | {t.goal} | {t.measured or '—'} | {t.status} | {t.gap} |" for t in goals]
    return [*lines, ""]


def _at_least(name: str, goal: float, value: float | None, unit: str, needs: str) -> Target:
    goal_text = f"≥ {_number(goal)}{unit}"
    if value is None:
        return Target(name, goal_text, "", None, f"needs {needs} in the run")
    met = value >= goal
    gap = f"{value / goal:.2f}x the goal" if met else f"{(1 - value / goal):.0%} short ({goal / value:.2f}x to go)"
    return Target(name, goal_text, f"{_number(value)}{unit}", met, gap)


def _below(name: str, limit: float, value: float | None, unit: str, needs: str, *, inclusive: bool = False) -> Target:
    goal_text = f"{'≤' if inclusive else '<'} {_number(limit)}{unit}"
    if value is None:
        return Target(name, goal_text, "", None, f"needs {needs} in the run")
    met = value <= limit if inclusive else value < limit
    gap = f"{value / limit:.0%} of the limit" if met else f"{value / limit:.2f}x the limit"
    return Target(name, goal_text, f"{_number(value)}{unit}", met, gap)


def _number(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _how_to_run() -> list[str]:
    return [
        "## How to run",
        "",
        "```bash",
        "make bench                                   # SF 1, 10, 100; course baseline at SF 1 and 10; test suite",
        ".venv/bin/python -m bench --quick            # SF 0.1 and 1, baseline at SF 0.1 (a few minutes)",
        ".venv/bin/python -m bench --scales 1,10 --baseline-scales 1 --out /tmp/BENCH.md",
        "```",
        "",
        "Options: `--scales` (comma-separated scale factors), `--baseline-scales` (where to also run the course's",
        "approach; `none` to skip it), `--out` (default `docs/BENCHMARKS.md`), `--seed`, `--no-rerun` (skip the",
        "second `shopstream run`), `--workdir DIR` (keep the logs there instead of a temporary folder), `--quick`,",
        "`--test-suite` (also time the whole `pytest` suite once, for the speed goals; `make bench` passes it).",
        "Every scale uses fresh stacks, each with its own embedded PostgreSQL on a free port, in one scratch",
        "SHOPSTREAM_HOME shared by the whole run (as on a user's machine: dbt's unit tests, once passed on this",
        "project in the warm-up, are left out of later builds until the project changes), so it never touches your",
        "`dev` stack; all servers are stopped at the end. Steps run one after another.",
        "",
    ]


def _definitions() -> list[str]:
    return [
        "## What is measured",
        "",
        f"- **{STEP_GENERATE}**: the product's `generate` (numpy build of the six tables in a background thread,",
        "  each table copied into PostgreSQL while the next is built, in one transaction with keys and indexes",
        "  rebuilt at the end). The seed's name pools come from the run's user cache, where the warm-up left them,",
        "  as for a user's second stack: Faker is not imported.",
        f"- **{STEP_EXTRACT}**, **load**, **dbt build**: the product's functions, each on the previous step's",
        "  output. dbt's rows are the RAW rows it reads. The extract runs right after the bulk load, as in",
        "  `shopstream run` (PostgreSQL may still be checkpointing it). Its per-table speed is rows / the time from",
        "  the table's query to the next one's (fetch and Arrow conversion; Parquet writing overlaps in a thread).",
        "- **seconds**: the step's own work, timed inside its process (interpreter start-up and imports excluded);",
        "  for `shopstream run`, the whole command from the outside. **rows/s** = rows / seconds.",
        "- **peak RSS**: every step runs in its own child process; the kernel's high-water mark of that process and",
        "  of its children, i.e. the largest single process of the step (dbt runs inside it). The PostgreSQL server is",
        "  not a child of any step, so its memory is not counted.",
        f"- **warm `shopstream run`**: {WARM_RUN}.",
        "- **run again**: a second `shopstream run` on the data the first one left: the source is kept, the extract",
        "  rewrites identical files, the load skips them (same checksum), and dbt does not run: RAW, the project and",
        "  the vars are those of the last successful build (`--force` would rebuild).",
        f"- **{STEP_TRANSFORM_COMMAND}**: the same build as a user types it, timed from the outside: interpreter",
        "  start-up, imports, loading dbt's parse (the stack's own partial parse) and the build itself.",
        "- **test suite**: `pytest` with the repository's settings (ruff and the install excluded), once.",
        "- **course**: the guide's scripts rebuilt in `bench/baseline.py` (Faker and `random` per row, psycopg2-style",
        "  `execute_batch` with page_size 100; `pandas.read_sql` per table into a CSV string, events into JSON),",
        "  with the same row counts. Its export reads the same rows as the product's extract and writes local files.",
        "  Ratios are course seconds / ShopStream seconds for the same step, measured in the same run.",
        "",
    ]
