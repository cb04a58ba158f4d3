"""The churn model: a scikit-learn pipeline (log-scaled numbers, one-hot plan and country, logistic regression).

A logistic regression is calibrated by construction on data like its training data, trains in well under a second
at SF1, is deterministic (lbfgs, fixed seed) and explains itself: each feature's contribution to a customer's
log-odds is its coefficient times the customer's distance from the training average. The top contributions that
raise the risk are what the mart shows as `top_features`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.predict.features import CATEGORICAL_FEATURES, NUMERIC_FEATURES, Examples

SEED = 42
REGULARISATION_C = 0.5
TOP_FEATURES = 3


@dataclass
class ChurnModel:
    pipeline: Any  # sklearn Pipeline: "prepare" (ColumnTransformer) → "classify" (LogisticRegression)
    training_mean: np.ndarray  # mean of the prepared training matrix: the reference for contributions
    groups: list[tuple[str, list[int]]]  # original feature → its columns in the prepared matrix

    def probabilities(self, examples: Examples) -> np.ndarray:
        return self.pipeline.predict_proba(_frame(examples))[:, 1]

    def top_features(self, examples: Examples, top: int = TOP_FEATURES) -> list[str]:
        """Per customer, the features that raise their churn odds most (comma-separated, strongest first)."""
        prepared = self.pipeline.named_steps["prepare"].transform(_frame(examples))
        weights = self.pipeline.named_steps["classify"].coef_[0]
        per_column = (np.asarray(prepared) - self.training_mean) * weights
        per_feature = np.column_stack([per_column[:, columns].sum(axis=1) for _, columns in self.groups])
        names = [name for name, _ in self.groups]
        order = np.argsort(-per_feature, axis=1, kind="stable")[:, :top]
        return [", ".join(names[j] for j in row if per_feature[i, j] > 0) or "none" for i, row in enumerate(order)]


def train(examples: Examples) -> ChurnModel:
    """Fit the pipeline on `examples` (rows in a fixed order, so the same examples give the same model)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    prepare = ColumnTransformer(
        [
            (
                "numeric",
                make_pipeline(FunctionTransformer(np.log1p, feature_names_out="one-to-one"), StandardScaler()),
                list(NUMERIC_FEATURES),
            ),
            ("category", OneHotEncoder(handle_unknown="ignore", sparse_output=False), list(CATEGORICAL_FEATURES)),
        ]
    )
    classify = LogisticRegression(C=REGULARISATION_C, max_iter=5_000, random_state=SEED)
    pipeline = Pipeline([("prepare", prepare), ("classify", classify)])
    frame = _frame(examples)
    pipeline.fit(frame, examples.labels)
    prepared = np.asarray(pipeline.named_steps["prepare"].transform(frame))
    return ChurnModel(pipeline=pipeline, training_mean=prepared.mean(axis=0), groups=_groups(prepare))


def _groups(prepare: Any) -> list[tuple[str, list[int]]]:
    groups = [(name, [i]) for i, name in enumerate(NUMERIC_FEATURES)]
    encoder = prepare.named_transformers_["category"]
    start = len(NUMERIC_FEATURES)
    for name, categories in zip(CATEGORICAL_FEATURES, encoder.categories_, strict=True):
        groups.append((name, list(range(start, start + len(categories)))))
        start += len(categories)
    return groups


def _frame(examples: Examples):
    import pandas as pd

    return pd.DataFrame(examples.features())
