"""The data-quality report: the rules measured by the dbt mart `mart_data_quality`, written after each build as
Markdown, with their history across runs (`<home>/quality/history.jsonl`) for the dashboard's Data quality page."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.rows import one_row
from pipeline.settings import DuckDBWarehouse, Settings

COLUMNS = (
    "rule_name", "checked_model", "rule", "checked_rows", "failed_rows", "failure_rate", "warn_above_rate",
    "fail_above_rate", "status",
)  # fmt: skip
STATUS_MARK = {"pass": "✅ pass", "warn": "⚠️ warn", "fail": "❌ fail"}


@dataclass(frozen=True)
class QualityReport:
    measured_at: str
    rules: list[dict[str, Any]]
    markdown_path: Path

    @property
    def counts(self) -> dict[str, int]:
        return {status: sum(r["status"] == status for r in self.rules) for status in ("pass", "warn", "fail")}


def quality_dir(settings: Settings) -> Path:
    return settings.home / "quality"


def history_file(settings: Settings) -> Path:
    return quality_dir(settings) / "history.jsonl"


def read_rules(settings: Settings) -> list[dict[str, Any]]:
    """The latest build's rule results from MARTS.mart_data_quality (empty when the mart does not exist)."""
    sql = f"SELECT {', '.join(COLUMNS)} FROM MARTS.mart_data_quality ORDER BY rule_name"
    if isinstance(settings.warehouse, DuckDBWarehouse):
        from pipeline.load.duckdb import open_warehouse

        if not settings.warehouse.path.exists():
            return []
        with open_warehouse(settings, read_only=True) as con:
            (exists,) = one_row(
                con.execute(
                    "SELECT count(*) FROM information_schema.tables WHERE upper(table_schema) = 'MARTS' "
                    "AND table_name = 'mart_data_quality'"
                )
            )
            rows = con.execute(sql).fetchall() if exists else []
    else:
        from pipeline.warehouse.snowflake import connect

        with connect(settings, "bi") as connection:
            cursor = connection.cursor()
            cursor.execute(sql)
            rows = cursor.fetchall()
    return [_plain(dict(zip(COLUMNS, row, strict=True))) for row in rows]


def _plain(rule: dict[str, Any]) -> dict[str, Any]:
    for key in ("checked_rows", "failed_rows"):
        rule[key] = int(rule[key])
    for key in ("failure_rate", "warn_above_rate", "fail_above_rate"):
        rule[key] = float(rule[key])
    return rule


def write_report(settings: Settings, measured_at: str | None = None) -> QualityReport | None:
    """Append this build's results to the history and write `report.md`; None when there is no mart yet."""
    rules = read_rules(settings)
    if not rules:
        return None
    measured_at = measured_at or datetime.now(UTC).isoformat(timespec="seconds")
    folder = quality_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    with history_file(settings).open("a") as history:
        history.write(json.dumps({"measured_at": measured_at, "rules": rules}, sort_keys=True) + "\n")
    path = folder / "report.md"
    report = QualityReport(measured_at, rules, path)
    path.write_text(render(report, read_history(settings)))
    return report


def read_history(settings: Settings) -> list[dict[str, Any]]:
    path = history_file(settings)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def render(report: QualityReport, history: list[dict[str, Any]]) -> str:
    counts = report.counts
    lines = [
        "# Data-quality report",
        "",
        f"Measured {report.measured_at}: {counts['pass']} passed, {counts['warn']} warned, {counts['fail']} failed.",
        "",
        "| Rule | Model | Check | Rows | Failed | Rate | Warn above | Fail above | Status |",
        "|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in report.rules:
        lines.append(
            f"| {r['rule_name']} | {r['checked_model']} | {r['rule']} | {r['checked_rows']:,} | {r['failed_rows']:,} "
            f"| {r['failure_rate']:.2%} | {r['warn_above_rate']:.2%} | {r['fail_above_rate']:.2%} "
            f"| {STATUS_MARK[r['status']]} |"
        )
    lines += ["", f"## History ({len(history)} runs, latest first)", "", "| Measured | Passed | Warned | Failed |"]
    lines.append("|---|---:|---:|---:|")
    for run in reversed(history[-30:]):
        statuses = [r["status"] for r in run["rules"]]
        lines.append(
            f"| {run['measured_at']} | {statuses.count('pass')} | {statuses.count('warn')} | {statuses.count('fail')} |"
        )
    return "\n".join(lines) + "\n"
