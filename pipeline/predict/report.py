"""docs/CHURN_MODEL.md from a trained model's evaluation: written by `shopstream predict --report FILE`."""

from __future__ import annotations

from pathlib import Path

from pipeline.predict.churn import HIGH_RISK, MEDIUM_RISK, PredictionReport
from pipeline.predict.evaluate import REQUIRED_ROC_AUC_MARGIN, CalibrationBin
from pipeline.predict.features import CATEGORICAL_FEATURES, NUMERIC_FEATURES, RULE_HIGH_DAYS, RULE_MEDIUM_DAYS


def render(report: PredictionReport, command: str) -> str:
    e = report.evaluation
    verdict = "met" if e.beats_baseline else "**missed**"
    return "\n".join(
        [
            "# Churn model",
            "",
            "How well the churn model of `shopstream predict` does against the rule-based `churn_risk` of",
            f"`mart_customer_ltv`, on held-out data. This file is written by the code (`{command}`);",
            "rerun it rather than editing by hand. The design is in [ml.md](ml.md).",
            "",
            "## Run",
            "",
            "| | |",
            "|---|---|",
            f"| stack | `{report.stack}` |",
            f"| model version (data hash - code version) | `{report.model_version}` |",
            f"| as-of date | {report.as_of_date} |",
            f"| label | no completed order in the {e.horizon_days} days after the cut-off |",
            f"| training cut-offs | {len(e.train_cutoffs)}, {e.train_cutoffs[0]} to {e.train_cutoffs[-1]} |",
            f"| training examples (customer x cut-off) | {e.train_rows:,} ({e.train_customers:,} customers) |",
            f"| test cut-off (held out) | {e.test_cutoff}: {e.test_customers:,} customers, "
            f"{e.test_churn_rate:.1%} churned |",
            f"| customers scored | {report.customers_scored:,} |",
            "",
            "## Model against the rule, on the test cut-off",
            "",
            "| metric | model | rule | better |",
            "|---|---:|---:|---|",
            f"| ROC AUC | {e.model.roc_auc:.3f} | {e.baseline.roc_auc:.3f} | higher |",
            f"| PR AUC (churned = positive) | {e.model.pr_auc:.3f} | {e.baseline.pr_auc:.3f} | higher |",
            f"| Brier score | {e.model.brier:.3f} | {e.baseline.brier:.3f} | lower |",
            "",
            f"**Required margin:** model ROC AUC above the rule's by at least {REQUIRED_ROC_AUC_MARGIN:.2f},",
            "and a Brier score no worse than the rule's.",
            f"Measured: {e.roc_auc_margin:+.3f} ROC AUC, {e.baseline.brier - e.model.brier:+.3f} Brier: {verdict}.",
            "The test suite checks this margin on generated data (`tests/predict/test_predict.py`).",
            "",
            "The rule ranks customers High (> "
            f"{RULE_HIGH_DAYS} days since the last completed order) > Medium (> {RULE_MEDIUM_DAYS}) > Low; for its",
            "Brier score each band predicts the churn rate its customers had at the training cut-offs.",
            "",
            "## Calibration on the test cut-off",
            "",
            "Model, by predicted probability:",
            "",
            *_calibration(e.model_calibration),
            "",
            "Rule, by band:",
            "",
            *_calibration(e.baseline_calibration),
            "",
            "## Features (all as of the cut-off day)",
            "",
            ", ".join(f"`{name}`" for name in (*NUMERIC_FEATURES, *CATEGORICAL_FEATURES)) + ".",
            "",
            f"Risk bands of the mart: High from {HIGH_RISK:.0%} churn probability, Medium from {MEDIUM_RISK:.0%}, "
            "else Low.",
            "",
        ]
    )


def _calibration(bins: list[CalibrationBin]) -> list[str]:
    return [
        "| bin | customers | mean predicted | observed churn |",
        "|---|---:|---:|---:|",
        *(f"| {b.label} | {b.customers:,} | {b.mean_predicted:.3f} | {b.observed_churn_rate:.3f} |" for b in bins),
    ]


def write(report: PredictionReport, path: Path, command: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(report, command))
    return path
