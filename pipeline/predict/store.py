"""Model artefacts under the stack's home, one folder per version: `<home>/models/churn/<version>/`.

A version is `<data hash>-<code version>`: the data hash covers the CORE history and the settings that shape the
training set (as-of date, horizon, cut-offs); the code version covers this package's source and the scikit-learn
version. The same data and code find the same folder, so the model is loaded, not retrained, and scores are
identical. A folder is written under a temporary name and renamed when complete: a crash never leaves half a model.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipeline.predict.evaluate import Evaluation
from pipeline.predict.model import ChurnModel
from pipeline.settings import Settings

PACKAGE = Path(__file__).resolve().parent
MODEL_FILE = "model.joblib"
METRICS_FILE = "metrics.json"


@dataclass(frozen=True)
class Artefact:
    version: str
    folder: Path
    model: ChurnModel
    evaluation: Evaluation
    loaded: bool  # True: found on disk; False: trained by this run


def code_version() -> str:
    """Digest of the package's source files and the scikit-learn version (8 hex digits)."""
    import sklearn

    digest = hashlib.sha256(sklearn.__version__.encode())
    for source in sorted(PACKAGE.glob("*.py")):
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:8]


def model_version(data_fingerprint: str, training_settings: dict) -> str:
    digest = hashlib.sha256(data_fingerprint.encode())
    digest.update(json.dumps(training_settings, sort_keys=True, default=str).encode())
    return f"{digest.hexdigest()[:12]}-{code_version()}"


def models_folder(settings: Settings) -> Path:
    return settings.home / "models" / "churn"


def load(settings: Settings, version: str) -> Artefact | None:
    """The stored artefact of `version`, or None when it was never trained (or its folder is incomplete)."""
    import joblib

    folder = models_folder(settings) / version
    if not (folder / MODEL_FILE).exists() or not (folder / METRICS_FILE).exists():
        return None
    metrics = json.loads((folder / METRICS_FILE).read_text())
    evaluation = Evaluation.from_dict(metrics["evaluation"])
    return Artefact(version, folder, joblib.load(folder / MODEL_FILE), evaluation, loaded=True)


def save(settings: Settings, version: str, model: ChurnModel, evaluation: Evaluation, about: dict) -> Artefact:
    import joblib

    parent = models_folder(settings)
    parent.mkdir(parents=True, exist_ok=True)
    folder = parent / version
    staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=parent))
    try:
        joblib.dump(model, staging / MODEL_FILE)
        metrics = {"version": version, **about, "evaluation": evaluation.to_dict()}
        (staging / METRICS_FILE).write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
        os.chmod(staging, 0o755)
        if folder.exists():  # an incomplete folder from an older crash
            shutil.rmtree(folder)
        staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Artefact(version, folder, model, evaluation, loaded=False)
