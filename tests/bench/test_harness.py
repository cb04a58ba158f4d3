"""The benchmark harness end to end at a tiny scale, and its target arithmetic on hand-made measurements.

The smoke test runs `python -m bench` for real (embedded PostgreSQL, DuckDB, dbt, the course baseline) into a
temporary report; it checks the report's structure, that every number is positive and consistent between
steps, and that no server or stack folder is left behind. Timings are never asserted.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from bench.__main__ import scales
from bench.harness import (
    STEP_BASELINE_EXPORT,
    STEP_BASELINE_GENERATE,
    STEP_EXTRACT,
    STEP_GENERATE,
    STEP_LOAD,
    STEP_RERUN,
    STEP_RUN,
    STEP_TRANSFORM,
    STEP_TRANSFORM_COMMAND,
    ScaleResult,
)
from bench.measure import Measurement
from bench.report import evaluate_speed_goals, evaluate_targets

REPO = Path(__file__).resolve().parents[2]
SCALE = "0.02"
NUMBER = r"[\d,]+(?:\.\d+)?"


def table_rows(report: str, heading: str) -> dict[str, list[str]]:
    """Cells of the first Markdown table under `heading` (header row left out), keyed by the first cell."""
    section = report.split(heading, 1)[1].split("\n#", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    rows: dict[str, list[str]] = {}
    for line in lines[2:]:  # header and separator
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[0]] = cells[1:]
    return rows


def number(cell: str) -> float:
    return float(cell.replace(",", ""))


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_harness_writes_a_complete_report_at_a_tiny_scale(tmp_path: Path) -> None:
    out, workdir = tmp_path / "BENCH.md", tmp_path / "work"
    command = [sys.executable, "-m", "bench", "--scales", SCALE, "--baseline-scales", SCALE, "--no-rerun"]
    command += ["--no-warm-up"]  # keeps the test short; the warm-up is the same `shopstream run` at a tinier scale
    command += ["--out", str(out), "--workdir", str(workdir)]
    finished = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=540)
    assert finished.returncode == 0, finished.stdout[-2000:] + finished.stderr[-2000:]
    check_report(out.read_text())
    # Nothing left behind: stacks deleted, no server still serving from the scratch folder.
    assert not any(path.name in {"stages", "e2e"} for path in workdir.rglob("*"))
    leftovers = [p for p in psutil.process_iter(["cmdline"]) if str(workdir) in " ".join(p.info["cmdline"] or [])]
    assert leftovers == []


def check_report(report: str) -> None:
    machine = table_rows(report, "## Machine")
    for label in ("CPU", "Cores", "RAM", "Python", "duckdb", "dbt-core", "PostgreSQL", "Date"):
        assert machine[label][0], label
    assert re.fullmatch(r"\d+(\.\d+)+", machine["PostgreSQL"][0])
    assert re.fullmatch(r"\d+\.\d+\.\d+", machine["Python"][0])

    steps = table_rows(report, f"### SF {SCALE} (")
    expected = [STEP_GENERATE, STEP_EXTRACT, STEP_LOAD, STEP_TRANSFORM, STEP_TRANSFORM_COMMAND, STEP_RUN]
    assert list(steps) == [*expected, STEP_BASELINE_GENERATE, STEP_BASELINE_EXPORT]
    for name, (rows, seconds, rate, rss, _detail) in steps.items():
        assert number(rows) > 0 and number(seconds) > 0 and number(rate) > 0 and number(rss) > 0, name
    # One dataset flows through every step: the same rows are generated, extracted, loaded and read by dbt,
    # and `shopstream run` with the same seed makes exactly as many; the course's exporter reads those rows too.
    generated = number(steps[STEP_GENERATE][0])
    for name in (STEP_EXTRACT, STEP_LOAD, STEP_TRANSFORM, STEP_TRANSFORM_COMMAND, STEP_RUN, STEP_BASELINE_EXPORT):
        assert number(steps[name][0]) == generated, name

    ratio = rf"^- Ratio, (generate \+ load|extract): course ({NUMBER}) s, ShopStream ({NUMBER}) s"
    ratios = re.findall(ratio, report, re.M)
    assert [what for what, _, _ in ratios] == ["generate + load", "extract"]
    assert all(number(course) > 0 and number(ours) > 0 for _, course, ours in ratios)

    targets = table_rows(report, "## Targets")
    assert len(targets) == 6
    assert {cells[2] for cells in targets.values()} <= {"met", "missed", "not measured"}
    extract_target = next(cells for name, cells in targets.items() if name.startswith("extract"))
    assert extract_target[2] in {"met", "missed"} and number(extract_target[1].split()[0]) > 0
    # Every speed goal is in the report with its goal and a status; at a tiny scale only the SF 1 ones are missing.
    goals = table_rows(report, "## Speed goals")
    assert len(goals) == 7
    assert all(cells[0].startswith(("<", "≥")) for cells in goals.values())
    assert {cells[2] for cells in goals.values()} == {"not measured"}  # no SF 1, 10 or 100 and no --test-suite


def measured(name: str, seconds: float, rows: int = 1000, **extra) -> Measurement:
    return Measurement(name, rows, seconds, peak_rss_bytes=1, extra=extra)


def test_targets_compare_each_measurement_with_its_goal() -> None:
    sf1 = ScaleResult(
        1,
        steps=[measured(STEP_GENERATE, 0.5)],
        baseline=[measured(STEP_BASELINE_GENERATE, 60.0)],
        runs=[measured(STEP_RUN, 45.0)],
    )
    sf10 = ScaleResult(10, runs=[measured(STEP_RUN, 10.0)])
    tables = {
        "events": {"rows": 1_000_000, "fetch_seconds": 1.0},
        "order_items": {"rows": 1_500_000, "fetch_seconds": 5.0},
        "users": {"rows": 100_000, "fetch_seconds": 10.0},  # slowest, but not one of the biggest tables
    }
    sf100 = ScaleResult(
        100,
        steps=[measured(STEP_GENERATE, 20.0), measured(STEP_EXTRACT, 6.0, tables=tables)],
        runs=[measured(STEP_RUN, 130.0)],
    )
    targets = {t.name: t for t in evaluate_targets([sf1, sf10, sf100])}
    by_start = {name.split(" at ")[0].split(",")[0]: t for name, t in targets.items()}

    assert targets["generate + load at SF 1 vs the course"].met  # 60 / 0.5 = 120x ≥ 100x
    assert targets["generate + load at SF 100"].met  # 20 s < 30 s
    extract = by_start["extract"]
    assert not extract.met and extract.measured == "300,000 rows/s"  # order_items: 1.5M rows in 5 s
    assert not targets["`shopstream run` at SF 1, warm"].met  # 45 s ≥ 30 s
    assert not targets["`shopstream run` at SF 100, warm"].met  # 130 s ≥ 120 s
    assert not targets["run time SF 100 / SF 10"].met  # 130 / 10 = 13 > 12
    assert targets["run time SF 100 / SF 10"].gap == "1.08x the limit"


def test_speed_goals_compare_each_figure_with_its_goal() -> None:
    sf1 = ScaleResult(
        1,
        steps=[measured(STEP_TRANSFORM_COMMAND, 4.0)],
        runs=[measured(STEP_RUN, 8.0), measured(STEP_RERUN, 3.9)],
    )
    sf10 = ScaleResult(10, steps=[measured(STEP_GENERATE, 1.0)], baseline=[measured(STEP_BASELINE_GENERATE, 49.0)])
    sf100 = ScaleResult(100, steps=[measured(STEP_GENERATE, 11.9)], runs=[measured(STEP_RUN, 36.0)])
    goals = {t.name: t for t in evaluate_speed_goals([sf1, sf10, sf100], test_suite_seconds=290)}
    assert [(name, t.status) for name, t in goals.items()] == [
        ("`shopstream run` SF 1, warm", "missed"),  # 8 s is not < 8 s
        ("`shopstream run` SF 100, warm", "missed"),
        ("dbt build step SF 1 (whole command)", "met"),
        ("re-run on unchanged data SF 1", "met"),
        ("generate + PostgreSQL load SF 100", "met"),
        ("generate + load vs the course SF 10", "missed"),  # 49x < 50x
        ("test suite (`pytest`, install excluded)", "met"),  # 4.8 min
    ]
    assert goals["generate + load vs the course SF 10"].measured == "49.0x"
    assert evaluate_speed_goals([sf1])[-1].status == "not measured"


def test_targets_without_their_scale_are_not_measured() -> None:
    targets = evaluate_targets([ScaleResult(0.5, runs=[measured(STEP_RUN, 3.0)])])
    assert len(targets) == 6
    assert all(t.met is None and t.status == "not measured" and t.gap.startswith("needs") for t in targets)


@pytest.mark.parametrize("text", ["1,x", "0", "-1", "1e9"])
def test_scales_reject_what_is_not_a_positive_scale_factor(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=r"scale factors|numbers"):
        scales(text)


def test_scales_are_sorted_and_deduplicated() -> None:
    assert scales("100, 1,10,1") == [1, 10, 100]
    assert scales("none") == []
