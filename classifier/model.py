"""The trained model file: what it holds, how it is written, read and checked against a plan.

A model file is a joblib (compressed) dictionary: a format version, the model
version, the plan id and label set it was trained for, the training date, a
hash of the training data, the chosen thresholds, and the fitted parts (the
featurizer, one linear classifier per label with its sigmoid calibration,
the labelled items' rows that serve as precedents, and the small combiner that
weighs model, rules and precedents). A file from another plan
or another format is refused with a message that says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import scipy.sparse as sp

from classifier.features import FastFeaturizer, FeatureTables
from classifier.neighbours import NeighbourIndex
from dophu.config import Plan

# 2: the featurizer is kept as plain tables (no sklearn object: tagging needs numpy only).
FORMAT_VERSION = 2
PACKAGE_MODELS = Path(__file__).resolve().parent / "models"
MODES = ("rules", "model", "combined")


class ModelFileError(Exception):
    """A model file cannot be used (missing, unreadable, or of another format)."""


class PlanMismatchError(ModelFileError):
    """A model file was trained for another plan or another label set."""


def plan_labels(plan: Plan) -> list[tuple[str, str]]:
    """The (kind, id) pairs a model for ``plan`` predicts, in a fixed order."""
    return ([("theme", t.id) for t in plan.themes]
            + [("anniversary", a.id) for a in plan.anniversaries])


def packaged_model_path(plan_id: str) -> Path:
    return PACKAGE_MODELS / f"{plan_id}.joblib"


@dataclass
class Combiner:
    """A logistic combination of the model's logit and the rule features, one per label kind."""

    coef: np.ndarray    # model logit, any phrase, phrase in lead, log mentions, reliability
    intercept: float

    def score(self, features: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(features @ self.coef + self.intercept)))


@dataclass
class ModelBundle:
    """Everything a trained model is, ready to score documents."""

    plan_id: str
    labels: list[tuple[str, str]]
    features: FeatureTables
    weights: np.ndarray          # (features, labels), float32
    bias: np.ndarray             # (labels,)
    calibration: np.ndarray      # (labels, 2): sigmoid a, b  (p = 1 / (1 + exp(a*f + b)))
    trained: np.ndarray          # (labels,) bool: a classifier was fitted for the label
    combiners: dict[str, Combiner]
    thresholds: dict[str, dict[str, float]]
    model_version: str
    trained_at: str
    data_hash: str
    phrase_reliability: dict[str, dict[str, float]] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    # The labelled items the combiner asks for precedents (None: a model trained before
    # session 8, whose combiners do not read them).
    neighbours: NeighbourIndex | None = None

    @property
    def label_ids(self) -> list[str]:
        return [label for _, label in self.labels]

    def check_plan(self, plan: Plan) -> None:
        """Refuse to score for a plan this model was not trained for."""
        if self.plan_id != plan.id:
            raise PlanMismatchError(
                f"model {self.model_version} was trained for plan {self.plan_id!r}, "
                f"the active plan is {plan.id!r}")
        expected = plan_labels(plan)
        if self.labels != expected:
            missing = sorted({x for _, x in expected} - set(self.label_ids))
            extra = sorted(set(self.label_ids) - {x for _, x in expected})
            detail = "; ".join(part for part in (
                f"not in the model: {', '.join(missing)}" if missing else "",
                f"not in the plan: {', '.join(extra)}" if extra else "") if part)
            raise PlanMismatchError(
                f"model {self.model_version} was trained for another label set of plan "
                f"{plan.id!r} ({detail or 'labels in another order'}); retrain with 'dophu train'")

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_fast", None)
        state.pop("_weights64", None)
        return state

    @property
    def fast(self) -> FastFeaturizer:
        """The featurizer's fast transform (built on first use, not stored in the file)."""
        fast = self.__dict__.get("_fast")
        if fast is None:
            fast = self.__dict__["_fast"] = FastFeaturizer(self.features)
        return fast

    @property
    def _weights64(self) -> np.ndarray:
        weights = self.__dict__.get("_weights64")
        if weights is None:  # float64 once: no conversion on every document
            weights = self.__dict__["_weights64"] = self.weights.astype(np.float64)
        return weights

    def decisions(self, rows: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """Raw linear scores per (document, label) from :meth:`FastFeaturizer.row` rows."""
        out = np.empty((len(rows), len(self.labels)))
        weights = self._weights64
        for k, (indexes, values) in enumerate(rows):
            out[k] = values @ weights[indexes] if len(indexes) else 0.0
        return out + self.bias

    def matrix_decisions(self, matrix: sp.csr_matrix) -> np.ndarray:
        """The same from :meth:`FastFeaturizer.matrix` (one sparse product for a batch)."""
        return np.asarray(matrix @ self._weights64) + self.bias

    def model_probabilities(self, matrix: sp.csr_matrix | None = None, *,
                            decision: np.ndarray | None = None) -> np.ndarray:
        """Calibrated probability per (document, label); 0 where no classifier was fitted."""
        if decision is None:
            decision = np.asarray(matrix @ self.weights) + self.bias
        a, b = self.calibration[:, 0], self.calibration[:, 1]
        probabilities = 1.0 / (1.0 + np.exp(np.clip(decision * a + b, -50, 50)))
        probabilities[:, ~self.trained] = 0.0
        return probabilities

    def summary(self) -> dict[str, Any]:
        """What a person needs to know about the file (no fitted parts)."""
        return {"format_version": self.format_version, "model_version": self.model_version,
                "plan_id": self.plan_id, "labels": [f"{k}:{x}" for k, x in self.labels],
                "trained_at": self.trained_at, "data_hash": self.data_hash,
                "thresholds": self.thresholds, **self.info}


def save_bundle(bundle: ModelBundle, path: Path) -> Path:
    """Write the model file atomically (temp file renamed over the target)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format_version": bundle.format_version, "bundle": bundle}
    tmp = path.with_name(path.name + ".tmp")
    joblib.dump(payload, tmp, compress=("zlib", 6))
    tmp.replace(path)
    return path


def load_bundle(path: Path) -> ModelBundle:
    """Read a model file; ModelFileError says what is wrong with it."""
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"{path}: model file not found")
    try:
        payload = joblib.load(path)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means "not usable"
        raise ModelFileError(f"{path}: not a readable model file ({type(exc).__name__}: "
                             f"{exc})") from None
    if not isinstance(payload, dict) or "bundle" not in payload:
        raise ModelFileError(f"{path}: not a dophu model file")
    if payload.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(f"{path}: model format {payload.get('format_version')!r}, this "
                             f"version of dophu reads format {FORMAT_VERSION}; retrain with "
                             "'dophu train'")
    bundle = payload["bundle"]
    if not isinstance(bundle, ModelBundle):
        raise ModelFileError(f"{path}: not a dophu model file")
    return bundle
