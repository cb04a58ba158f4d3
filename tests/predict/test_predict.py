"""`predict` on the generated SF 1 stack: the mart's grain and range, deterministic training and scoring, the
versioned artefact, and the margin over the rule that docs/CHURN_MODEL.md states."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.predict import churn
from pipeline.predict.churn import HIGH_RISK, MEDIUM_RISK, fit_and_evaluate, predict
from pipeline.predict.evaluate import REQUIRED_ROC_AUC_MARGIN
from pipeline.predict.features import training_cutoffs
from pipeline.predict.history import read_history
from pipeline.predict.model import train
from pipeline.predict.store import models_folder
from tests.helpers.churn import rows

pytestmark = pytest.mark.slow

MART = "SELECT * FROM MARTS.mart_churn_predictions ORDER BY customer_key"


@pytest.fixture(scope="module")
def first_run(churn_stack):
    shutil.rmtree(models_folder(churn_stack), ignore_errors=True)
    report = predict(churn_stack)
    return report, rows(churn_stack, MART)


def test_mart_has_one_row_per_customer_with_a_completed_order(churn_stack, first_run) -> None:
    report, mart = first_run
    customers = rows(churn_stack, "SELECT customer_key FROM MARTS.mart_customer_ltv ORDER BY 1")
    assert [row[0] for row in mart] == [key for (key,) in customers]  # the rule's customers, each once
    assert report.customers_scored == len(mart) > 500
    (columns,) = [
        [c for (c,) in rows(churn_stack, "SELECT column_name FROM information_schema.columns "
                                         "WHERE table_name = 'mart_churn_predictions' ORDER BY ordinal_position")]
    ]  # fmt: skip
    assert columns == [
        "customer_key", "churn_probability", "risk_band", "top_features", "model_version", "as_of_date",
        "horizon_days",
    ]  # fmt: skip
    probability = np.array([row[1] for row in mart])
    assert ((probability > 0) & (probability < 1)).all() and probability.std() > 0.1
    for _, p, band, top, version, as_of, horizon in mart:
        assert band == ("High" if p >= HIGH_RISK else "Medium" if p >= MEDIUM_RISK else "Low")
        assert version == report.model_version and as_of == report.as_of_date and horizon == 90
        assert top and len(top.split(", ")) <= 3
    (as_of,) = rows(churn_stack, "SELECT as_of_date FROM CORE.int_as_of_date")[0]
    assert report.as_of_date == as_of
    # Customers the rule calls High churn more often by the model's account too.
    by_rule = dict(
        rows(
            churn_stack,
            """SELECT l.churn_risk, avg(p.churn_probability) FROM MARTS.mart_customer_ltv l
                                       JOIN MARTS.mart_churn_predictions p USING (customer_key) GROUP BY 1""",
        )
    )
    assert by_rule["High"] > by_rule["Medium"] > by_rule["Low"]


def test_metrics_mart_holds_the_evaluation(churn_stack, first_run) -> None:
    report, _ = first_run
    metrics = {
        m: (model, rule)
        for _, _, _, m, model, rule in rows(churn_stack, "SELECT * FROM MARTS.mart_churn_model_metrics")
    }
    e = report.evaluation
    assert metrics["roc_auc"] == (e.model.roc_auc, e.baseline.roc_auc)
    assert metrics["brier_score"] == (e.model.brier, e.baseline.brier)
    assert metrics["test_customers"][0] == e.test_customers


def test_model_beats_the_rule_by_the_documented_margin(first_run) -> None:
    e = first_run[0].evaluation
    assert e.model.roc_auc - e.baseline.roc_auc >= REQUIRED_ROC_AUC_MARGIN, e
    assert e.model.pr_auc > e.baseline.pr_auc
    assert e.model.brier < e.baseline.brier
    assert e.beats_baseline and not first_run[0].notes
    assert e.train_cutoffs[-1] < e.test_cutoff  # evaluated on a later cut-off than any it trained on


def test_rerun_loads_the_same_model_and_writes_the_same_scores(churn_stack, first_run) -> None:
    report, mart = first_run
    assert not report.loaded
    again = predict(churn_stack)
    assert again.loaded and again.model_version == report.model_version
    assert rows(churn_stack, MART) == mart
    stored = json.loads((models_folder(churn_stack) / report.model_version / "metrics.json").read_text())
    assert stored["evaluation"]["model"]["roc_auc"] == report.evaluation.model.roc_auc


def test_retraining_from_scratch_gives_identical_scores(churn_stack, first_run) -> None:
    report, mart = first_run
    shutil.rmtree(models_folder(churn_stack))
    retrained = predict(churn_stack)
    assert not retrained.loaded and retrained.model_version == report.model_version
    assert rows(churn_stack, MART) == mart


def test_training_is_deterministic(churn_stack) -> None:
    history = read_history(churn_stack)
    cutoffs, test = training_cutoffs(history.as_of_date, 90, churn.TRAINING_CUTOFFS, churn.CUTOFF_STEP_DAYS)
    examples, _ = fit_and_evaluate(history, cutoffs, test, 90)
    first, second = train(examples), train(examples)
    assert np.array_equal(first.pipeline.named_steps["classify"].coef_, second.pipeline.named_steps["classify"].coef_)
    assert np.array_equal(first.probabilities(examples), second.probabilities(examples))


def test_another_as_of_date_is_another_version(churn_stack, first_run) -> None:
    report, _ = first_run
    earlier = predict(churn_stack, as_of_date="2025-11-30")
    assert earlier.model_version != report.model_version and earlier.as_of_date.isoformat() == "2025-11-30"
    assert {row[5].isoformat() for row in rows(churn_stack, MART)} == {"2025-11-30"}
    predict(churn_stack)  # back to the default as-of date for the other tests


def test_cli_writes_the_metrics_document(churn_stack, first_run, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("SHOPSTREAM_DEBUG", raising=False)
    target = tmp_path / "CHURN_MODEL.md"
    monkeypatch.setenv("SHOPSTREAM_PG_DSN", "postgresql://unused@127.0.0.1:1/unused")  # predict needs no source
    result = CliRunner().invoke(app, ["predict", "--stack", churn_stack.stack, "--report", str(target)])
    assert result.exit_code == 0, result.output
    assert "customers scored" in result.output and first_run[0].model_version in result.output
    text = target.read_text()
    assert f"at least {REQUIRED_ROC_AUC_MARGIN:.2f}" in text and "met" in text
    assert f"{first_run[0].evaluation.model.roc_auc:.3f}" in text


def test_run_predict_step_and_airflow_task(churn_stack, first_run) -> None:
    from pipeline.predict.churn import predict_stack
    from pipeline.predict.command import predict_step
    from pipeline.run import RunSummary

    summary = RunSummary(extract_date="2026-11-24")
    result = predict_step(churn_stack, summary, progress=None)
    (step,) = summary.steps
    assert step.name == "predict" and f"{result.customers_scored:,} customers scored" in step.detail
    assert result.model_version == first_run[0].model_version and result.loaded

    task = predict_stack(churn_stack.stack)
    assert task["refreshed"] and task["model_version"] == first_run[0].model_version
    assert task["customers_scored"] == first_run[0].customers_scored
