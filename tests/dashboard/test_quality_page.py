"""The Data quality page shows the latest rules and the history written by the quality report."""

from __future__ import annotations

from pipeline.quality import write_report


def test_quality_page_shows_latest_rules_and_history(app, marts_stack) -> None:
    first = write_report(marts_stack, measured_at="2026-11-23T02:00:00+00:00")
    write_report(marts_stack, measured_at="2026-11-24T02:00:00+00:00")
    at = app("views/quality.py")
    table = at.dataframe[0].value
    assert sorted(table["Rule"]) == sorted(r["rule_name"] for r in first.rules)
    assert {m.label: m.value for m in at.metric}["✅ pass"] == str(first.counts["pass"])
    assert "History (" in " ".join(s.value for s in at.subheader)
    figure = at.get("plotly_chart")[0].proto.spec
    assert "2026-11-23T02:00:00+00:00" in figure and "2026-11-24T02:00:00+00:00" in figure
