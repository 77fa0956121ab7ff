"""Scoring documents for every label: rules, model, dates, and their combination.

Training, evaluation and the tagger all score through these functions, so the
numbers measured on the held-out split are the numbers the tagger produces.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import scipy.sparse as sp

from classifier.anniversary_dates import DateJudgement, judge, local_day, year_mentions
from classifier.features import FeatureConfig, ModelInput, model_input
from classifier.matcher import MatchResult, PhraseMatcher
from classifier.model import Combiner, ModelBundle, plan_labels
from classifier.normalize import Document
from classifier.rules import (
    NO_SIGNAL,
    RULE_FEATURES,
    RULE_THRESHOLD,
    RuleSignal,
    rule_features,
    rule_score,
    signal_for,
)
from dophu.config import Anniversary, Plan

LOGIT_CLIP = 6.0
# Below this, a score cannot pass any threshold (they are chosen in [0.05, 0.95]).
MIN_SCORE = 0.04
# Up to this many words, a document is "short" (title + summary, caption, post).
SHORT_WORDS = 100
DEFAULT_FEATURES = FeatureConfig()


@dataclass
class Prepared:
    """One document after normalisation and phrase matching; date reasoning on demand."""

    doc: Document
    published_at: datetime | date | None
    matches: MatchResult
    signals: list[RuleSignal]            # one per label, in plan_labels order
    model_input: ModelInput | None = None
    dates: dict[int, DateJudgement] = field(default_factory=dict)   # label index → judgement
    _day: tuple[date | None] | None = None
    _numbers: list[tuple[int, int]] | None = None

    def date(self, column: int, anniversary: Anniversary) -> DateJudgement:
        """The date judgement for the anniversary in ``column`` (computed once)."""
        judgement = self.dates.get(column)
        if judgement is None:
            if self._day is None:
                self._day = (local_day(self.published_at),)
                self._numbers = year_mentions(self.doc)
            judgement = judge(anniversary, self.published_at, self.doc,
                              self.signals[column].matches, day=self._day[0],
                              numbers=self._numbers)
            self.dates[column] = judgement
        return judgement


class Labels:
    """The plan's labels in model order, with their kinds and anniversaries."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.pairs = plan_labels(plan)
        self.ids = [label for _, label in self.pairs]
        self.kinds = [kind for kind, _ in self.pairs]
        self.is_anniversary = np.array([k == "anniversary" for k in self.kinds])
        self.anniversaries = {i: a for i, a in enumerate(plan.anniversaries, len(plan.themes))}

    def __len__(self) -> int:
        return len(self.pairs)


def prepare(labels: Labels, matcher: PhraseMatcher, title: str | None, text: str | None,
            published_at: datetime | date | None, *,
            features: FeatureConfig | None = DEFAULT_FEATURES, normalized: bool = False
            ) -> Prepared:
    """Normalise (unless ``normalized``), match the plan's phrases and, when ``features``
    names the model's features, build what the model reads (None: the rules alone)."""
    doc = Document(title or "", text or "") if normalized else Document.from_raw(title, text)
    found = matcher.find(doc)
    signals = [signal_for(doc, found.positives.get(label)) if found.positives else NO_SIGNAL
               for label in labels.ids]
    prepared = Prepared(doc, published_at, found, signals)
    if features is not None:
        prepared.model_input = model_input(doc, found.negatives, features.segmentation,
                                           features.marked_words)
    return prepared


def rule_matrix(labels: Labels, prepared: Sequence[Prepared],
                reliability: dict[str, dict[str, float]] | None = None) -> np.ndarray:
    """(documents, labels, RULE_FEATURES) rule features."""
    out = np.zeros((len(prepared), len(labels), RULE_FEATURES), dtype=np.float64)
    tables = [(reliability or {}).get(label) for label in labels.ids]
    for row, item in enumerate(prepared):
        for col, signal in enumerate(item.signals):
            if signal.hit:
                out[row, col] = rule_features(signal, tables[col])
    return out


def rule_scores(labels: Labels, prepared: Sequence[Prepared]) -> np.ndarray:
    out = np.zeros((len(prepared), len(labels)))
    for row, item in enumerate(prepared):
        length = len(item.doc.words)
        for col, signal in enumerate(item.signals):
            if signal.hit:
                out[row, col] = rule_score(signal, length)
    return out


def date_factors(labels: Labels, prepared: Sequence[Prepared],
                 needed: np.ndarray | None = None) -> np.ndarray:
    """(documents, labels) date factors: 1 for themes, and where ``needed`` is False.

    A factor never raises a score, so the tagger only asks for it where a
    score is high enough to matter (``needed``); training and evaluation ask
    for all of them.
    """
    out = np.ones((len(prepared), len(labels)))
    columns = list(labels.anniversaries)
    if needed is None:
        cells = [(row, col) for row in range(len(prepared)) for col in columns]
    else:
        cells = [(row, columns[k]) for row, k in np.argwhere(needed[:, columns])]
    for row, col in cells:
        out[row, col] = prepared[row].date(col, labels.anniversaries[col]).factor
    return out


def short_flags(prepared: Sequence[Prepared]) -> np.ndarray:
    """1 for a short document (a title and a summary, a caption, a post), else 0."""
    return np.array([float(len(p.doc.words) <= SHORT_WORDS) for p in prepared])


def combiner_features(model_p: np.ndarray, rules: np.ndarray, short: np.ndarray,
                      votes: np.ndarray | None = None) -> np.ndarray:
    """(documents, labels, features): the model's logit, the rule features, the labelled
    precedents' votes (when the model has them), and the same for short documents (the
    model learned mostly from full texts; in a title and a summary, its view and the
    phrases' weigh differently)."""
    p = np.clip(model_p, 1e-6, 1 - 1e-6)
    logit = np.clip(np.log(p / (1 - p)), -LOGIT_CLIP, LOGIT_CLIP)[..., None]
    base = np.concatenate([logit, rules] if votes is None else [logit, rules, votes], axis=2)
    flag = np.broadcast_to(short[:, None, None], logit.shape)
    return np.concatenate([base, flag, base * flag], axis=2)


def combined_scores(labels: Labels, model_p: np.ndarray, rules: np.ndarray, short: np.ndarray,
                    rule_raw: np.ndarray, dates: np.ndarray, trained: np.ndarray,
                    combiners: dict[str, Combiner], votes: np.ndarray | None = None
                    ) -> np.ndarray:
    """One score per (document, label): combiner where a model exists, else rules; × date.

    ``combiners`` holds one combiner per label kind ("theme", "anniversary") and one
    of its own for each label with enough examples; ``votes`` are the precedents'
    (:mod:`classifier.neighbours`) when the model keeps them.
    """
    features = combiner_features(model_p, rules, short, votes)
    coef, intercept, active = combiner_table(labels, trained, combiners, features.shape[2])
    scores = 1.0 / (1.0 + np.exp(-(np.einsum("nlf,lf->nl", features, coef) + intercept)))
    return np.where(active, scores, rule_raw) * dates


def combiner_table(labels: Labels, trained: np.ndarray, combiners: dict[str, Combiner],
                   width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each label's combiner as rows of one matrix (its own, else its kind's)."""
    key = (id(combiners), tuple(labels.ids), width)
    cached = _TABLES.get(key)
    if cached is not None and cached[0] is combiners:
        return cached[1]
    coef = np.zeros((len(labels), width))
    intercept = np.zeros(len(labels))
    active = np.zeros(len(labels), dtype=bool)
    for column, (kind, label) in enumerate(labels.pairs):
        combiner = combiners.get(label) or combiners.get(kind)
        if trained[column] and combiner is not None:
            coef[column], intercept[column] = combiner.coef, combiner.intercept
            active[column] = True
    table = (coef, intercept, active)
    if len(_TABLES) > 64:
        _TABLES.clear()
    _TABLES[key] = (combiners, table)
    return table


# Combiner tables by the combiners they were built from (a model's are built once).
_TABLES: dict[tuple, tuple[dict[str, Combiner], tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}


def threshold_matrix(labels: Labels, thresholds: dict[str, dict[str, float]] | None, mode: str,
                     short: np.ndarray) -> np.ndarray:
    """(documents, labels) thresholds: the mode's, or its ":short" ones for short documents."""
    if not thresholds:
        return np.full((len(short), len(labels)), RULE_THRESHOLD)
    base = np.array([thresholds.get(mode, {}).get(label, RULE_THRESHOLD) for label in labels.ids])
    shorter = thresholds.get(f"{mode}:short")
    if not shorter:
        return np.broadcast_to(base, (len(short), len(labels)))
    small = np.array([shorter.get(label, base[j]) for j, label in enumerate(labels.ids)])
    return np.where(short[:, None] > 0, small, base)


@dataclass
class Scores:
    """Every mode's scores for a batch, and the model's probabilities (for evidence)."""

    rules: np.ndarray
    model: np.ndarray | None
    combined: np.ndarray
    # each document's nearest labelled items (indexes, similarities), when the model has them
    nearest: tuple[np.ndarray, np.ndarray] | None = None

    def of(self, mode: str) -> np.ndarray:
        if mode == "model":
            if self.model is None:
                raise ValueError("no model loaded: only the rules can score")
            return self.model
        return self.rules if mode == "rules" else self.combined


Row = tuple[np.ndarray, np.ndarray]


class MatrixRows(Sequence[Row]):
    """The rows of a CSR feature matrix as (indexes, values), read when asked (evidence)."""

    def __init__(self, matrix: sp.csr_matrix):
        self.matrix = matrix

    def __len__(self) -> int:
        return self.matrix.shape[0]

    def __getitem__(self, k):  # noqa: ANN001, ANN204 - Sequence's int/slice overloads
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        start, end = self.matrix.indptr[k], self.matrix.indptr[k + 1]
        return self.matrix.indices[start:end], self.matrix.data[start:end]


def score_batch(labels: Labels, prepared: Sequence[Prepared], bundle: ModelBundle | None,
                *, lazy_dates: bool = False) -> tuple[Scores, Sequence[Row] | None]:
    """Scores of every mode for prepared documents (and their feature rows, for evidence)."""
    rule_raw = rule_scores(labels, prepared)
    if bundle is None or not prepared:
        needed = rule_raw > 0 if lazy_dates else None
        rules = rule_raw * date_factors(labels, prepared, needed)
        return Scores(rules, None, rules), None
    fast = bundle.fast
    rows: Sequence[Row]
    matrix: sp.csr_matrix | None = None
    if len(prepared) == 1:     # one document: a row costs less than a one-row matrix
        rows = [fast.row(prepared[0].model_input)]
        decision = bundle.decisions(rows)
    else:
        matrix = fast.matrix([p.model_input for p in prepared])
        rows = MatrixRows(matrix)
        decision = bundle.matrix_decisions(matrix)
    model_p = bundle.model_probabilities(decision=decision)
    votes = nearest = None
    if bundle.neighbours is not None:
        nearest = (bundle.neighbours.nearest(matrix) if matrix is not None
                   else bundle.neighbours.nearest_row(*rows[0]))
        votes = bundle.neighbours.vote(*nearest)
    undated = combined_scores(labels, model_p,
                              rule_matrix(labels, prepared, bundle.phrase_reliability),
                              short_flags(prepared), rule_raw,
                              np.ones_like(rule_raw), bundle.trained, bundle.combiners, votes)
    needed = ((rule_raw > 0) | (model_p >= MIN_SCORE) | (undated >= MIN_SCORE)
              if lazy_dates else None)
    dates = date_factors(labels, prepared, needed)
    return Scores(rule_raw * dates, model_p, undated * dates, nearest), rows
