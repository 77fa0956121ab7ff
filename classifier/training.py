"""Training: one calibrated linear classifier per label, a combiner, thresholds from validation.

Deterministic (fixed random states, no parallel randomness) and fast: the
whole thing is a few hundred small linear fits. The thresholds and the
combiner are chosen on out-of-fold scores (cross-validation on the training
part only); the held-out test split is never seen here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import numpy as np
import scipy.sparse as sp
import sklearn
from joblib import Parallel, delayed
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.svm import LinearSVC

from classifier.corpus import LabelledItem
from classifier.engine import (
    Labels,
    Prepared,
    combined_scores,
    combiner_features,
    date_factors,
    prepare,
    rule_matrix,
    rule_scores,
    short_flags,
    threshold_matrix,
)
from classifier.features import FeatureConfig, Featurizer, ModelInput
from classifier.matcher import PhraseMatcher
from classifier.model import MODES, Combiner, ModelBundle
from classifier.neighbours import NEIGHBOUR_FEATURES, NeighbourIndex
from classifier.rules import RULE_FEATURES, RULE_THRESHOLD, phrase_reliability
from dophu.config import Plan

DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class TrainConfig:
    """Training choices; stored in the model file's info."""

    features: FeatureConfig = field(default_factory=FeatureConfig)
    classifier: str = "svm"          # "svm" (LinearSVC) or "logreg"
    # Chosen by cross-validation on the training part (docs/classifier.md): 0.25-8 tried.
    C: float = 2.0
    # "balanced" weighs each label's rare positives up; None weighs every item alike.
    class_weight: str | None = "balanced"
    folds: int = 5
    calibration_folds: int = 3
    min_positives: int = 3
    random_state: int = 0
    n_jobs: int = 2
    # Items of the real stream (and people's feedback) weigh this much more than
    # hand-written ones: they are what the tagger will see.
    real_weight: float = 1.0
    # The same for the combiner's fit (chosen by cross-validation on the training part:
    # 1, 3, 10, 30 tried; docs/classifier.md).
    combiner_real_weight: float = 10.0
    # A label with this many positives gets a combiner of its own (0: one per kind only).
    own_combiner_min: int = 40
    # Short documents (a title and a summary, a post) get thresholds of their own.
    short_thresholds: bool = True
    short_min_positives: int = 8
    # How many nearest labelled items vote as precedents (0: none), and the share of
    # items above which a word is left out of their similarity (classifier/neighbours.py).
    neighbours: int = 10
    neighbour_max_df: float = 0.01


@dataclass
class LabelModels:
    weights: np.ndarray
    bias: np.ndarray
    calibration: np.ndarray
    trained: np.ndarray

    def probabilities(self, matrix: sp.csr_matrix) -> np.ndarray:
        decision = np.asarray(matrix @ self.weights) + self.bias
        a, b = self.calibration[:, 0], self.calibration[:, 1]
        p = 1.0 / (1.0 + np.exp(np.clip(decision * a + b, -50, 50)))
        p[:, ~self.trained] = 0.0
        return p


def _base_estimator(config: TrainConfig):  # noqa: ANN202 - an sklearn estimator
    if config.classifier == "logreg":
        return LogisticRegression(C=config.C * 10, class_weight=config.class_weight,
                                  max_iter=2000, solver="liblinear",
                                  random_state=config.random_state)
    return LinearSVC(C=config.C, class_weight=config.class_weight,
                     random_state=config.random_state)


def _fit_one(matrix: sp.csr_matrix, target: np.ndarray, sample_weight: np.ndarray,
             config: TrainConfig) -> tuple[np.ndarray, float, tuple[float, float]] | None:
    positives = int(target.sum())
    negatives = len(target) - positives
    if min(positives, negatives) < config.min_positives:
        return None
    folds = min(config.calibration_folds, positives, negatives)
    if not matrix.data.flags.writeable:
        # joblib hands large inputs to worker processes as read-only memory maps, and
        # liblinear's logistic regression sums duplicates in place.
        matrix = matrix.copy()
    calibrated = CalibratedClassifierCV(
        _base_estimator(config), method="sigmoid", ensemble=False,
        cv=StratifiedKFold(folds, shuffle=True, random_state=config.random_state))
    calibrated.fit(matrix, target, sample_weight=sample_weight)
    fitted = calibrated.calibrated_classifiers_[0]
    sigmoid = fitted.calibrators[0]
    return (fitted.estimator.coef_.ravel(), float(fitted.estimator.intercept_[0]),
            (float(sigmoid.a_), float(sigmoid.b_)))


def fit_label_models(matrix: sp.csr_matrix, y: np.ndarray, known: np.ndarray,
                     config: TrainConfig, weights_of_items: np.ndarray | None = None
                     ) -> LabelModels:
    """One sigmoid-calibrated linear classifier per label with enough examples.

    Labels are fitted in parallel worker processes (liblinear's random generator
    is global to a process, so threads would make the result depend on timing);
    each fit has its own fixed random state.
    """
    n_features, n_labels = matrix.shape[1], y.shape[1]
    if weights_of_items is None:
        weights_of_items = np.ones(matrix.shape[0])
    jobs = []
    for j in range(n_labels):
        rows = np.flatnonzero(known[:, j])
        jobs.append(delayed(_fit_one)(matrix[rows], y[rows, j], weights_of_items[rows], config))
    fitted = Parallel(n_jobs=config.n_jobs)(jobs)
    weights = np.zeros((n_features, n_labels), dtype=np.float32)
    bias = np.zeros(n_labels)
    calibration = np.tile(np.array([-1.0, 0.0]), (n_labels, 1))
    trained = np.zeros(n_labels, dtype=bool)
    for j, result in enumerate(fitted):
        if result is None:
            continue
        weights[:, j], bias[j], calibration[j] = result
        trained[j] = True
    return LabelModels(weights, bias, calibration, trained)


def fit_featurizer(inputs: Sequence[ModelInput], config: TrainConfig
                   ) -> tuple[Featurizer, sp.csr_matrix]:
    featurizer = Featurizer(config.features)
    matrix = featurizer.fit_transform(inputs)
    for vectorizer in featurizer.vectorizers:
        # The pruned vocabulary only serves introspection and would bloat the file.
        if hasattr(vectorizer, "stop_words_"):
            del vectorizer.stop_words_
    return featurizer, matrix


def choose_threshold(scores: np.ndarray, truth: np.ndarray, default: float = DEFAULT_THRESHOLD,
                     min_positives: int = 3) -> float:
    """The threshold with the best F1 on validation scores (the middle of a tie)."""
    if int(truth.sum()) < min_positives:
        return default
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
    best, chosen = -1.0, [default]
    positives = truth.astype(bool)
    for threshold in grid:
        predicted = scores >= threshold
        tp = int((predicted & positives).sum())
        fp = int((predicted & ~positives).sum())
        fn = int((~predicted & positives).sum())
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        if f1 > best + 1e-9:
            best, chosen = f1, [float(threshold)]
        elif abs(f1 - best) <= 1e-9:
            chosen.append(float(threshold))
    return chosen[len(chosen) // 2]


def _fit_combiner(features: np.ndarray, truth: np.ndarray, random_state: int,
                  weights: np.ndarray | None = None) -> Combiner:
    model = LogisticRegression(C=1.0, max_iter=1000, random_state=random_state)
    if len(np.unique(truth)) < 2:
        coef = np.zeros(features.shape[1])
        coef[0] = 1.0
        return Combiner(coef, 0.0)
    model.fit(features, truth, sample_weight=weights)
    return Combiner(model.coef_.ravel().copy(), float(model.intercept_[0]))


def _pooled(labels: Labels, kind: str, features: np.ndarray, y: np.ndarray,
            known: np.ndarray, trained: np.ndarray, rows: np.ndarray, weights: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    columns = np.flatnonzero(np.array([k == kind for k in labels.kinds]) & trained)
    mask = known[np.ix_(rows, columns)]
    block = features[np.ix_(rows, columns)]
    cell_weights = np.broadcast_to(weights[rows][:, None], mask.shape)
    return block[mask], y[np.ix_(rows, columns)][mask], cell_weights[mask]


def fit_combiners(labels: Labels, model_p: np.ndarray, rules: np.ndarray, short: np.ndarray,
                  y: np.ndarray,
                  known: np.ndarray, trained: np.ndarray, rows: np.ndarray,
                  random_state: int, own_min: int = 0,
                  weights: np.ndarray | None = None,
                  votes: np.ndarray | None = None) -> dict[str, Combiner]:
    """One combiner per label kind, and one per label with ``own_min`` positives.

    ``weights`` (one per item) let the items of the real stream count more: the
    combiner learns how far to trust the model where no phrase was found, which
    differs between hand-written and real items.
    """
    features = combiner_features(model_p, rules, short, votes)
    if weights is None:
        weights = np.ones(len(y))
    combiners = {}
    for kind in ("theme", "anniversary"):
        x, t, w = _pooled(labels, kind, features, y, known, trained, rows, weights)
        if len(t):
            combiners[kind] = _fit_combiner(x, t, random_state, w)
    if own_min:
        for j, label in enumerate(labels.ids):
            use = rows[known[rows, j]]
            if trained[j] and int(y[use, j].sum()) >= own_min:
                combiners[label] = _fit_combiner(features[use, j, :], y[use, j], random_state,
                                                 weights[use])
    return combiners


@dataclass
class TrainingData:
    items: list[LabelledItem]
    prepared: list[Prepared]
    y: np.ndarray
    known: np.ndarray
    weights: np.ndarray


def prepare_training(plan: Plan, items: Sequence[LabelledItem], config: TrainConfig,
                     labels: Labels | None = None, matcher: PhraseMatcher | None = None
                     ) -> TrainingData:
    labels = labels or Labels(plan)
    matcher = matcher or PhraseMatcher(plan)
    prepared = [prepare(labels, matcher, i.title, i.text, i.published_at, normalized=True,
                        features=config.features) for i in items]
    y = np.array([[int(label in i.labels) for label in labels.ids] for i in items],
                 dtype=np.int64).reshape(len(items), len(labels))
    known = np.array([[i.knows(label) for label in labels.ids] for i in items],
                     dtype=bool).reshape(len(items), len(labels))
    weights = np.array([config.real_weight if i.form in ("real", "feedback") else 1.0
                        for i in items])
    return TrainingData(list(items), prepared, y, known, weights)


def reliability_of(labels: Labels, data: TrainingData, rows: Sequence[int]
                   ) -> dict[str, dict[str, float]]:
    rows = [r for r in rows]
    return phrase_reliability([data.prepared[r].signals for r in rows],
                              [[bool(v) for v in data.y[r]] for r in rows], labels.ids)


def neighbour_index(data: TrainingData, matrix: sp.csr_matrix, rows: np.ndarray,
                    config: TrainConfig) -> NeighbourIndex:
    """The precedents' index of some training items (a fold's, or all of them). An item
    without a title (a post) is named in the evidence by its first words."""
    names = [data.items[i].title or " ".join(data.items[i].text.split()[:15]) for i in rows]
    return NeighbourIndex.build(matrix[rows], data.y[rows], data.known[rows], names,
                                config.neighbours, config.neighbour_max_df)


def out_of_fold(labels: Labels, data: TrainingData, matrix: sp.csr_matrix,
                config: TrainConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Model probabilities, rule features and precedents' votes for every training item,
    from folds without it.

    The vocabulary and idf come from all training items (no labels are involved
    in them); the classifiers, phrase reliabilities and precedents of a fold never
    see its items.
    """
    n = len(data.items)
    oof = np.zeros(data.y.shape)
    rules = np.zeros((*data.y.shape, RULE_FEATURES))
    votes = np.zeros((*data.y.shape, NEIGHBOUR_FEATURES)) if config.neighbours else None
    splitter = KFold(min(config.folds, n), shuffle=True, random_state=config.random_state)
    for fit_rows, held_rows in splitter.split(np.arange(n)):
        models = fit_label_models(matrix[fit_rows], data.y[fit_rows], data.known[fit_rows],
                                  config, data.weights[fit_rows])
        oof[held_rows] = models.probabilities(matrix[held_rows])
        reliability = reliability_of(labels, data, fit_rows)
        rules[held_rows] = rule_matrix(labels, [data.prepared[i] for i in held_rows],
                                       reliability)
        if votes is not None:
            votes[held_rows] = neighbour_index(data, matrix, fit_rows, config).votes(
                matrix[held_rows])
    return oof, rules, votes


def train_model(plan: Plan, items: Sequence[LabelledItem], config: TrainConfig | None = None,
                *, data_hash: str = "", info: dict | None = None,
                scored_subsets: Mapping[str, Callable[[LabelledItem], bool]] | None = None
                ) -> ModelBundle:
    """Fit everything on ``items`` (the training split and feedback) and return the model.

    ``info["validation"]`` has the cross-validated figures on all items and on the real
    ones, and on each of ``scored_subsets`` (say, the items two training sets share, to
    compare them on the same items)."""
    config = config or TrainConfig()
    started = time.perf_counter()
    labels = Labels(plan)
    if len(items) < config.folds * 2:
        raise ValueError(f"too few labelled items to train on ({len(items)})")
    data = prepare_training(plan, items, config, labels)
    featurizer, matrix = fit_featurizer([p.model_input for p in data.prepared], config)
    final = fit_label_models(matrix, data.y, data.known, config, data.weights)
    oof, rules, votes = out_of_fold(labels, data, matrix, config)
    reliability = reliability_of(labels, data, range(len(items)))
    rule_raw = rule_scores(labels, data.prepared)
    dates = date_factors(labels, data.prepared)
    every = np.arange(len(items))
    short = short_flags(data.prepared)
    combiner_weights = np.array([config.combiner_real_weight
                                 if i.form in ("real", "feedback") else 1.0 for i in items])
    combiners = fit_combiners(labels, oof, rules, short, data.y, data.known, final.trained,
                              every, config.random_state, config.own_combiner_min,
                              combiner_weights, votes)
    # Combined scores for thresholds, from combiners that did not see the item either.
    combined = np.zeros(data.y.shape)
    splitter = KFold(min(config.folds, len(items)), shuffle=True,
                     random_state=config.random_state + 1)
    for fit_rows, held_rows in splitter.split(every):
        fold_combiners = fit_combiners(labels, oof, rules, short, data.y, data.known,
                                       final.trained, fit_rows, config.random_state,
                                       config.own_combiner_min, combiner_weights, votes)
        combined[held_rows] = combined_scores(
            labels, oof[held_rows], rules[held_rows], short[held_rows], rule_raw[held_rows],
            dates[held_rows], final.trained, fold_combiners,
            None if votes is None else votes[held_rows])
    validation = {"rules": rule_raw * dates, "model": oof, "combined": combined}
    thresholds = choose_thresholds(labels, data, validation, short, config)
    info = {**(info or {}), "validation": _validation_summary(labels, data, validation,
                                                              thresholds, short,
                                                              scored_subsets or {})}
    trained_at = datetime.now(UTC).replace(microsecond=0)
    model_version = f"{plan.id}@{trained_at:%Y%m%dT%H%M%SZ}-{(data_hash or 'nohash')[:8]}"
    positives = {label: int(data.y[data.known[:, j], j].sum())
                 for j, label in enumerate(labels.ids)}
    info = {**info, "n_items": len(items), "positives": positives,
            "config": _jsonable(asdict(config)), "sklearn_version": sklearn.__version__,
            "train_seconds": round(time.perf_counter() - started, 2),
            "untrained_labels": [x for j, x in enumerate(labels.ids) if not final.trained[j]]}
    return ModelBundle(
        plan_id=plan.id, labels=labels.pairs, features=featurizer.tables(),
        weights=final.weights, bias=final.bias, calibration=final.calibration,
        trained=final.trained, combiners=combiners, thresholds=thresholds,
        model_version=model_version, trained_at=trained_at.isoformat(), data_hash=data_hash,
        phrase_reliability=reliability, info=info,
        neighbours=neighbour_index(data, matrix, every, config) if config.neighbours else None)


def choose_thresholds(labels: Labels, data: TrainingData, validation: dict[str, np.ndarray],
                      short: np.ndarray, config: TrainConfig) -> dict[str, dict[str, float]]:
    """Per mode and label, on validation scores; short documents get their own when
    ``config.short_thresholds`` and there are enough short examples of the label."""
    thresholds: dict[str, dict[str, float]] = {mode: {} for mode in MODES}
    if config.short_thresholds:
        thresholds.update({f"{mode}:short": {} for mode in MODES if mode != "rules"})
    for j, label in enumerate(labels.ids):
        known = data.known[:, j]
        thresholds["rules"][label] = RULE_THRESHOLD
        for mode in ("model", "combined"):
            scores, truth = validation[mode][:, j], data.y[:, j]
            overall = choose_threshold(scores[known], truth[known],
                                       min_positives=config.min_positives)
            thresholds[mode][label] = overall
            if config.short_thresholds:
                rows = known & (short > 0)
                thresholds[f"{mode}:short"][label] = choose_threshold(
                    scores[rows], truth[rows], default=overall,
                    min_positives=config.short_min_positives)
    return thresholds


def _validation_summary(labels: Labels, data: TrainingData, validation: dict[str, np.ndarray],
                        thresholds: dict[str, dict[str, float]], short: np.ndarray,
                        scored_subsets: Mapping[str, Callable[[LabelledItem], bool]]
                        ) -> dict[str, dict]:
    """Cross-validated headline figures on the training part (all items, real items, and
    the subsets asked for), over the items with every label known."""
    from classifier.evaluation import headline_figures, label_metrics

    complete = np.array([item.known is None for item in data.items])
    subsets = {"all": complete,
               "real": complete & np.array([item.form == "real" for item in data.items])}
    for name, member in scored_subsets.items():
        subsets[name] = complete & np.array([bool(member(item)) for item in data.items])
    summary: dict[str, dict] = {}
    for name, rows in subsets.items():
        if not rows.any():
            continue
        summary[name] = {}
        for mode, scores in validation.items():
            cut = threshold_matrix(labels, thresholds, mode, short)
            summary[name][mode] = headline_figures(
                label_metrics(labels, data.y[rows].astype(bool), scores[rows] >= cut[rows]))
    return summary


def _jsonable(value):  # noqa: ANN001, ANN202 - small recursive helper
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value
