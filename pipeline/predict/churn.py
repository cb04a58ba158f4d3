"""The predict step: train or load the model of the stack's CORE history, score customers, write the marts.

`predict(settings)` is what `shopstream predict` and `shopstream run --predict` call; `predict_stack(stack)` is
the Airflow task. See the package docstring for the cut-offs and docs/ml.md for the whole design.
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa

from pipeline.errors import ShopstreamError
from pipeline.predict import store
from pipeline.predict.evaluate import Evaluation, evaluate
from pipeline.predict.features import Examples, build_examples, training_cutoffs
from pipeline.predict.history import History, read_history
from pipeline.predict.mart import write_marts
from pipeline.predict.model import train
from pipeline.progress import Progress
from pipeline.settings import Settings

HORIZON_DAYS = 90
TRAINING_CUTOFFS = 12
CUTOFF_STEP_DAYS = 28
MIN_TRAIN_CUSTOMERS = 50
MIN_TEST_CUSTOMERS = 30
HIGH_RISK = 0.7  # churn probability from which a customer is High risk ...
MEDIUM_RISK = 0.4  # ... and Medium risk (below: Low)


class NotTrainable(ShopstreamError):
    """The history cannot train or evaluate a model (too few customers, a single class); nothing was written."""


@dataclass
class PredictionReport:
    stack: str
    model_version: str
    model_folder: str
    loaded: bool  # the model of this data and code was already trained: loaded, not retrained
    as_of_date: date
    horizon_days: int
    customers_scored: int
    bands: dict[str, int]
    evaluation: Evaluation
    written_to: str
    notes: list[str] = field(default_factory=list)


def risk_band(probability: np.ndarray) -> np.ndarray:
    return np.where(probability >= HIGH_RISK, "High", np.where(probability >= MEDIUM_RISK, "Medium", "Low"))


def predict(
    settings: Settings,
    as_of_date: str | None = None,
    horizon_days: int = HORIZON_DAYS,
    progress: Progress | None = None,
) -> PredictionReport:
    """Train or load the churn model of the stack's CORE history, score every customer, write the marts."""
    steps = ("read CORE", "train", "score", "write MARTS")

    def step(done: int) -> None:
        if progress:
            progress(f"predict {steps[min(done, len(steps) - 1)]}", done, len(steps))

    if horizon_days < 1:
        raise ShopstreamError(f"--horizon-days must be at least 1 (got {horizon_days})")
    if any(importlib.util.find_spec(module) is None for module in ("sklearn", "pandas")):
        raise ShopstreamError("scikit-learn or pandas is not installed: run `make install-all` (the `ml` extra)")
    step(0)
    history = read_history(settings)
    as_of = _as_of(as_of_date, history)
    train_cutoffs, test_cutoff = training_cutoffs(as_of, horizon_days, TRAINING_CUTOFFS, CUTOFF_STEP_DAYS)
    training_settings = {
        "as_of_date": as_of,
        "horizon_days": horizon_days,
        "train_cutoffs": train_cutoffs,
        "test_cutoff": test_cutoff,
    }
    version = store.model_version(history.fingerprint(), training_settings)
    step(1)
    artefact = store.load(settings, version) or _train(
        settings, history, version, train_cutoffs, test_cutoff, horizon_days
    )
    step(2)
    current = build_examples(history, [as_of], horizon_days)
    if not len(current):
        raise ShopstreamError(f"no customer has a completed order by {as_of}: nothing to score")
    probability = artefact.model.probabilities(current)
    bands = risk_band(probability)
    predictions = pa.table(
        {
            "customer_key": current.customers,
            "churn_probability": probability,
            "risk_band": bands,
            "top_features": artefact.model.top_features(current),
            "model_version": [version] * len(current),
            "as_of_date": [as_of] * len(current),
            "horizon_days": [horizon_days] * len(current),
        }
    )
    step(3)
    written = write_marts(settings, predictions, metrics_table(version, as_of, artefact.evaluation))
    step(4)
    notes = []
    if not artefact.evaluation.beats_baseline:
        notes.append("the model does not beat the rule-based churn risk on held-out data by the required margin")
    return PredictionReport(
        stack=settings.stack,
        model_version=version,
        model_folder=str(artefact.folder),
        loaded=artefact.loaded,
        as_of_date=as_of,
        horizon_days=horizon_days,
        customers_scored=len(current),
        bands=dict(sorted(Counter(bands.tolist()).items())),
        evaluation=artefact.evaluation,
        written_to=written,
        notes=notes,
    )


def predict_stack(stack: str, as_of_date: str | None = None) -> dict:
    """What the Airflow task runs: score the stack after dbt. Data that cannot train a model (the DAG's demo data
    is small) is logged and leaves the existing marts as they are, instead of failing the daily run."""
    import logging

    from pipeline.settings import resolve_settings

    try:
        report = predict(resolve_settings(stack), as_of_date=as_of_date)
    except NotTrainable as exc:
        logging.getLogger(__name__).warning("churn predictions not refreshed: %s", exc)
        return {"stack": stack, "refreshed": False, "reason": str(exc)}
    return {
        "stack": stack,
        "refreshed": True,
        "model_version": report.model_version,
        "loaded": report.loaded,
        "customers_scored": report.customers_scored,
        "roc_auc": report.evaluation.model.roc_auc,
        "baseline_roc_auc": report.evaluation.baseline.roc_auc,
    }


def fit_and_evaluate(
    history: History, train_cutoffs: list[date], test_cutoff: date, horizon_days: int
) -> tuple[Examples, Evaluation]:
    """Train on the training cut-offs, evaluate on the test cut-off; (every labelled example, the evaluation)."""
    examples = build_examples(history, [*train_cutoffs, test_cutoff], horizon_days)
    cutoff = np.array(examples.table["cutoff"].to_pylist())
    training = Examples(examples.table.filter(pa.array(cutoff != test_cutoff)))
    test = examples.at(test_cutoff)
    check_trainable(training, test, horizon_days)
    held_out = train(training).probabilities(test)
    present = sorted({c for c in cutoff.tolist() if c != test_cutoff})
    return examples, evaluate(training, test, held_out, horizon_days, [str(c) for c in present])


def check_trainable(training: Examples, test: Examples, horizon_days: int) -> None:
    """Refuse data a model cannot honestly learn from or be evaluated on, with one actionable line."""
    customers = len(np.unique(training.customers)) if len(training) else 0
    if customers < MIN_TRAIN_CUSTOMERS or len(test) < MIN_TEST_CUSTOMERS:
        raise NotTrainable(
            f"too few customers to train a churn model: {customers} in the training cut-offs (need "
            f"{MIN_TRAIN_CUSTOMERS}) and {len(test)} at the test cut-off (need {MIN_TEST_CUSTOMERS}); "
            "generate more data (`shopstream generate --scale 1`) or a longer history"
        )
    for name, examples in (("training", training), ("test", test)):
        classes = set(examples.labels.tolist())
        if len(classes) < 2:
            outcome = "churned" if classes == {1} else "ordered again"
            raise NotTrainable(
                f"cannot train a churn model: every customer at the {name} cut-offs {outcome} within "
                f"{horizon_days} days (one class only); try another --horizon-days or more varied data"
            )


def metrics_table(version: str, as_of: date, evaluation: Evaluation) -> pa.Table:
    rows = [
        ("roc_auc", evaluation.model.roc_auc, evaluation.baseline.roc_auc),
        ("pr_auc", evaluation.model.pr_auc, evaluation.baseline.pr_auc),
        ("brier_score", evaluation.model.brier, evaluation.baseline.brier),
        ("test_customers", float(evaluation.test_customers), float(evaluation.test_customers)),
        ("test_churn_rate", evaluation.test_churn_rate, evaluation.test_churn_rate),
    ]
    test_cutoff = date.fromisoformat(evaluation.test_cutoff)
    return pa.table(
        {
            "model_version": [version] * len(rows),
            "as_of_date": [as_of] * len(rows),
            "test_cutoff": [test_cutoff] * len(rows),
            "metric": [metric for metric, _, _ in rows],
            "model_value": [model for _, model, _ in rows],
            "baseline_value": [baseline for _, _, baseline in rows],
        }
    )


def _train(
    settings: Settings,
    history: History,
    version: str,
    train_cutoffs: list[date],
    test_cutoff: date,
    horizon_days: int,
) -> store.Artefact:
    examples, evaluation = fit_and_evaluate(history, train_cutoffs, test_cutoff, horizon_days)
    model = train(examples)  # the scored model learns from every labelled cut-off, the test one included
    about = {"stack": settings.stack, "horizon_days": horizon_days, "examples": len(examples)}
    return store.save(settings, version, model, evaluation, about)


def _as_of(as_of_date: str | None, history: History) -> date:
    if as_of_date:
        try:
            return date.fromisoformat(as_of_date)
        except ValueError:
            raise ShopstreamError(f"--as-of-date {as_of_date!r} is not a date YYYY-MM-DD") from None
    if history.as_of_date is None:
        raise ShopstreamError("CORE has no orders yet: load data and run `shopstream transform` first")
    return history.as_of_date
