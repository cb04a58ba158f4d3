"""Command `shopstream quality`: write the data-quality report of the stack's latest build (and add it to the
history). `shopstream run` does this after every dbt build."""

from __future__ import annotations

from pipeline.cli import Outputs, Stack, _settings, app, friendly_errors, out
from pipeline.errors import ShopstreamError


@app.command(epilog="Examples:\n\n  shopstream quality\n\n  shopstream quality --stack alice")
@friendly_errors
def quality(stack: Stack = "dev", outputs: Outputs = None) -> None:
    """Write the data-quality report (rules, failure rates, thresholds, status) and add it to the history."""
    from pipeline.quality import write_report

    report = write_report(_settings(stack, outputs))
    if report is None:
        raise ShopstreamError(f"no data-quality results yet: run `shopstream transform --stack {stack}` first")
    counts = report.counts
    out.print(
        f"[green]✓[/] {counts['pass']} rules passed, {counts['warn']} warned, {counts['fail']} failed; "
        f"report {report.markdown_path}",
        soft_wrap=True,
    )
    for rule in report.rules:
        if rule["status"] != "pass":
            out.print(f"  [yellow]{rule['status']}[/] {rule['rule_name']}: {rule['failure_rate']:.2%} of rows")
