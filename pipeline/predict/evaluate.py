"""Honest evaluation on the held-out (latest) cut-off: the model against the rule-based churn risk.

The rule ranks customers by band (High > Medium > Low) for ROC AUC and PR AUC; for the Brier score each band
predicts the churn rate its customers had in the training cut-offs, the best probability a three-band rule can
give. The calibration table bins the model's probabilities in tenths and the rule by band.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from pipeline.predict.features import Examples

# The margin the model must beat the rule by on held-out data (docs/CHURN_MODEL.md states it; a test checks it).
REQUIRED_ROC_AUC_MARGIN = 0.05
BANDS = ("Low", "Medium", "High")


@dataclass(frozen=True)
class CalibrationBin:
    label: str
    customers: int
    mean_predicted: float
    observed_churn_rate: float


@dataclass(frozen=True)
class Scores:
    roc_auc: float
    pr_auc: float
    brier: float


@dataclass(frozen=True)
class Evaluation:
    test_cutoff: str
    train_cutoffs: list[str]
    horizon_days: int
    train_rows: int
    train_customers: int
    test_customers: int
    test_churn_rate: float
    model: Scores
    baseline: Scores
    model_calibration: list[CalibrationBin] = field(default_factory=list)
    baseline_calibration: list[CalibrationBin] = field(default_factory=list)

    @property
    def roc_auc_margin(self) -> float:
        return self.model.roc_auc - self.baseline.roc_auc

    @property
    def beats_baseline(self) -> bool:
        return self.roc_auc_margin >= REQUIRED_ROC_AUC_MARGIN and self.model.brier <= self.baseline.brier

    def to_dict(self) -> dict:
        return asdict(self) | {"roc_auc_margin": self.roc_auc_margin, "beats_baseline": self.beats_baseline}

    @classmethod
    def from_dict(cls, data: dict) -> Evaluation:
        data = {key: value for key, value in data.items() if key in cls.__dataclass_fields__}
        data["model"], data["baseline"] = Scores(**data["model"]), Scores(**data["baseline"])
        data["model_calibration"] = [CalibrationBin(**b) for b in data["model_calibration"]]
        data["baseline_calibration"] = [CalibrationBin(**b) for b in data["baseline_calibration"]]
        return cls(**data)


def evaluate(
    train: Examples, test: Examples, test_probabilities: np.ndarray, horizon_days: int, train_cutoffs: list[str]
) -> Evaluation:
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    labels = test.labels
    band = test.rule_band()
    band_rate = _band_rates(train)
    baseline_probability = band_rate[band]
    return Evaluation(
        test_cutoff=str(test.table["cutoff"][0].as_py()),
        train_cutoffs=train_cutoffs,
        horizon_days=horizon_days,
        train_rows=len(train),
        train_customers=len(np.unique(train.customers)),
        test_customers=len(test),
        test_churn_rate=float(labels.mean()),
        model=Scores(
            roc_auc=float(roc_auc_score(labels, test_probabilities)),
            pr_auc=float(average_precision_score(labels, test_probabilities)),
            brier=float(brier_score_loss(labels, test_probabilities)),
        ),
        baseline=Scores(
            roc_auc=float(roc_auc_score(labels, band)),
            pr_auc=float(average_precision_score(labels, band)),
            brier=float(brier_score_loss(labels, baseline_probability)),
        ),
        model_calibration=_tenths(test_probabilities, labels),
        baseline_calibration=[
            CalibrationBin(name, int((band == i).sum()), float(band_rate[i]), float(labels[band == i].mean()))
            for i, name in enumerate(BANDS)
            if (band == i).any()
        ],
    )


def _band_rates(train: Examples) -> np.ndarray:
    """Training churn rate per rule band (the overall rate for a band no training customer fell in)."""
    band, labels = train.rule_band(), train.labels
    return np.array([labels[band == i].mean() if (band == i).any() else labels.mean() for i in range(len(BANDS))])


def _tenths(probabilities: np.ndarray, labels: np.ndarray) -> list[CalibrationBin]:
    bins = np.minimum((probabilities * 10).astype(int), 9)
    return [
        CalibrationBin(
            f"{i / 10:.1f}-{(i + 1) / 10:.1f}",
            int((bins == i).sum()),
            float(probabilities[bins == i].mean()),
            float(labels[bins == i].mean()),
        )
        for i in range(10)
        if (bins == i).any()
    ]
