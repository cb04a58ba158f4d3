"""The rubric: which checks count and how many points each is worth, read from a YAML file.

An instructor reweights or disables checks without code: copy `rubric.yml`, edit it, pass `--rubric FILE`.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline.errors import ConfigError

DEFAULT_RUBRIC = Path(__file__).with_name("rubric.yml")
FIGURES_PREFIX = "figures."
ANY_MART = "figures.*"


class RubricEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    points: float = Field(ge=0)
    enabled: bool = True


class Rubric(BaseModel):
    model_config = ConfigDict(extra="forbid")

    checks: list[RubricEntry]

    def entry(self, check_id: str) -> RubricEntry | None:
        """The entry scoring `check_id` (a mart without an entry of its own falls back to `figures.*`)."""
        for entry in self.checks:
            if entry.id == check_id:
                return entry
        if check_id.startswith(FIGURES_PREFIX):
            fallback = self.entry(ANY_MART)
            if fallback is not None:
                mart = check_id.removeprefix(FIGURES_PREFIX)
                return fallback.model_copy(update={"id": check_id, "title": f"{mart} {fallback.title}"})
        return None


def load_rubric(path: Path | None = None) -> Rubric:
    """The rubric in `path` (default: the package's); a bad file is a one-line error naming the problem."""
    path = path or DEFAULT_RUBRIC
    try:
        document = yaml.safe_load(Path(path).read_text())
        rubric = Rubric.model_validate(document)
    except FileNotFoundError:
        raise ConfigError(f"rubric file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"rubric file {path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"rubric file {path}: {where}: {first['msg']} ({exc.error_count()} problem(s))") from None
    ids = [entry.id for entry in rubric.checks]
    if duplicates := sorted({i for i in ids if ids.count(i) > 1}):
        raise ConfigError(f"rubric file {path}: duplicate check ids {', '.join(duplicates)}")
    return rubric
