"""`shopstream predict` and the opt-in predict step of `shopstream run` (registered in pipeline/cli.py)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from pipeline.cli import Outputs, Stack, StepProgress, _settings, friendly_errors, out

EPILOG = (
    "Examples:\n\n  shopstream predict\n\n  shopstream predict --as-of-date 2025-09-30\n\n  "
    "shopstream predict --report docs/CHURN_MODEL.md (also write the metrics document)\n\n  "
    "shopstream predict --stack alice (Snowflake)"
)
PREDICT_OPTION_HELP = "Also train/load the churn model and write MARTS.mart_churn_predictions after dbt."


@friendly_errors
def predict(
    stack: Stack = "dev",
    outputs: Outputs = None,
    as_of_date: Annotated[
        str | None,
        typer.Option("--as-of-date", help="Score customers as of this day (YYYY-MM-DD); default: CORE's as-of date."),
    ] = None,
    horizon_days: Annotated[
        int, typer.Option("--horizon-days", help="Churned = no completed order in this many days after the cut-off.")
    ] = 90,
    report: Annotated[
        Path | None, typer.Option("--report", help="Also write the metrics document (e.g. docs/CHURN_MODEL.md).")
    ] = None,
) -> None:
    """Train (or load) the churn model of the stack's CORE history, score every customer, write the churn marts."""
    from pipeline.predict.churn import predict as run_predict

    settings = _settings(stack, outputs)
    with StepProgress() as progress:
        result = run_predict(settings, as_of_date=as_of_date, horizon_days=horizon_days, progress=progress)
    print_report(result)
    if report is not None:
        from pipeline.predict.report import write

        command = f"shopstream predict --stack {stack} --report {report}"
        out.print(f"[green]✓[/] wrote {write(result, report, command)}")


def predict_step(settings: Any, summary: Any, progress: Any) -> Any:
    """`shopstream run --predict`: the predict step after dbt, timed in the run's step table."""
    from pipeline.predict.churn import predict as run_predict
    from pipeline.run import StepResult

    started = time.perf_counter()
    result = run_predict(settings, progress=progress)
    summary.steps.append(StepResult("predict", time.perf_counter() - started, describe(result)))
    return result


def describe(result: Any) -> str:
    e = result.evaluation
    return (
        f"{result.customers_scored:,} customers scored by model {result.model_version} "
        f"({'loaded' if result.loaded else 'trained'}); ROC AUC {e.model.roc_auc:.3f} vs rule {e.baseline.roc_auc:.3f}"
    )


def print_report(result: Any) -> None:
    e = result.evaluation
    out.print(f"[green]✓[/] {describe(result)} → {result.written_to}", soft_wrap=True)
    out.print(
        f"  as of {result.as_of_date}, horizon {result.horizon_days} days; bands "
        + ", ".join(f"{band} {count:,}" for band, count in result.bands.items()),
        soft_wrap=True,
    )
    out.print(
        f"  held-out {e.test_cutoff}: PR AUC {e.model.pr_auc:.3f} vs {e.baseline.pr_auc:.3f}, "
        f"Brier {e.model.brier:.3f} vs {e.baseline.brier:.3f}; model in {result.model_folder}",
        soft_wrap=True,
    )
    for note in result.notes:
        out.print(f"  [yellow]{note}[/]", soft_wrap=True)
