"""The tagger other code calls: built once per process from the plan and a model file.

``build_tagger(plan, model_path)`` looks for the model at ``model_path``
(``<data>/models/<plan id>.joblib``), then for the one shipped in the package.
A missing model, or one trained for another plan or label set, gives one clear
warning and the tagger works with the plan's rules alone. A built tagger holds
only immutable state, so one instance serves every thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from classifier.engine import (
    Labels,
    Prepared,
    prepare,
    score_batch,
    short_flags,
    threshold_matrix,
)
from classifier.evidence import evidence_for
from classifier.matcher import PhraseMatcher
from classifier.model import (
    ModelBundle,
    ModelFileError,
    load_bundle,
    packaged_model_path,
)
from dophu.config import Plan
from dophu.dates import parse_datetime
from dophu.models import Item, Tag

log = logging.getLogger("dophu.classifier")
_warned: set[str] = set()
_warn_lock = threading.Lock()


def warn_once(message: str) -> None:
    """Log a warning the first time this process meets it."""
    with _warn_lock:
        if message in _warned:
            return
        _warned.add(message)
    log.warning(message)


@dataclass(frozen=True)
class TagResult:
    """The tags of one document (the shape of ``dophu tag``'s output, minus the id)."""

    relevant: bool
    themes: list[Tag] = field(default_factory=list)
    anniversaries: list[Tag] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"relevant": self.relevant,
                "themes": [t.model_dump() for t in self.themes],
                "anniversaries": [t.model_dump() for t in self.anniversaries]}


@dataclass(frozen=True)
class Decisions:
    """A batch's scores against the thresholds: rows are documents, columns the plan's labels
    (``Labels.ids``); ``combined >= cut`` is what gets tagged."""

    prepared: list[Prepared]
    combined: np.ndarray
    cut: np.ndarray
    model: np.ndarray | None
    rows: Any
    nearest: tuple[np.ndarray, np.ndarray] | None = None   # see Scores.nearest


def _fields(doc: Any) -> tuple[str, str, datetime | date | None]:
    if isinstance(doc, Mapping):
        title, text, published = doc.get("title"), doc.get("text"), doc.get("published_at")
    else:
        title = getattr(doc, "title", "")
        text = getattr(doc, "text", "")
        published = getattr(doc, "published_at", None)
    if isinstance(published, str):
        published = parse_datetime(published)
    return title or "", text or "", published


class Tagger:
    """Tags documents with the plan's themes and anniversaries, with score and evidence."""

    def __init__(self, plan: Plan, bundle: ModelBundle | None = None, *,
                 model_path: Path | None = None, status: str = ""):
        if bundle is not None:
            bundle.check_plan(plan)
        self.plan = plan
        self.bundle = bundle
        self.model_path = model_path
        self.status = status or (f"model {bundle.model_version}" if bundle else "rules only")
        self.labels = Labels(plan)
        self.matcher = PhraseMatcher(plan)
        self._features = bundle.features.config if bundle else None
        self._feature_names: list[str] | None = None
        # thresholds for (long, short) documents, computed once
        cut = threshold_matrix(self.labels, bundle.thresholds if bundle else None, "combined",
                               np.array([0.0, 1.0]))
        self._cut = (cut[0].copy(), cut[1].copy())
        if bundle is not None:
            bundle.fast  # noqa: B018 - build the fast transform now, not in a worker thread
            bundle.decisions([])
        self._names_lock = threading.Lock()

    @property
    def model_version(self) -> str | None:
        return self.bundle.model_version if self.bundle else None

    def _names(self) -> list[str] | None:
        if self.bundle is None:
            return None
        with self._names_lock:
            if self._feature_names is None:
                self._feature_names = self.bundle.features.feature_names()
        return self._feature_names

    def prepare(self, doc: Any) -> Prepared:
        title, text, published = _fields(doc)
        return prepare(self.labels, self.matcher, title, text, published,
                       features=self._features,
                       normalized=isinstance(doc, Item))  # Items are normalised when built

    def decide(self, docs: Sequence[Any]) -> Decisions:
        """Every label's combined score and threshold for a batch (what ``tag_many`` and the
        review queue both read)."""
        prepared = [self.prepare(doc) for doc in docs]
        if not prepared:
            empty = np.zeros((0, len(self.labels)))
            return Decisions(prepared, empty, empty, None, None)
        scores, rows = score_batch(self.labels, prepared, self.bundle, lazy_dates=True)
        short = short_flags(prepared)
        cut = np.where(short[:, None] > 0, self._cut[1], self._cut[0])
        return Decisions(prepared, scores.combined, cut, scores.model, rows, scores.nearest)

    def evidence(self, decisions: Decisions, row: int, column: int) -> list[str]:
        """Why label ``column`` scored as it did on document ``row`` of ``decisions``."""
        precedents = None
        if (decisions.nearest is not None and self.bundle is not None
                and self.bundle.neighbours is not None):
            indexes, similarities = decisions.nearest
            precedents = self.bundle.neighbours.precedents(indexes[row], similarities[row],
                                                           column)
        return evidence_for(
            decisions.prepared[row], column, self.labels.kinds[column],
            model_p=None if decisions.model is None else float(decisions.model[row, column]),
            row=None if decisions.rows is None else decisions.rows[row],
            weights=None if self.bundle is None else self.bundle.weights,
            feature_names=self._names(), precedents=precedents)

    def tag_many(self, docs: Sequence[Any]) -> list[TagResult]:
        """Tag a batch (faster than one by one: one matrix product for all of them)."""
        decisions = self.decide(docs)
        passing = decisions.combined >= decisions.cut
        results = []
        for row in range(len(decisions.prepared)):
            themes: list[Tag] = []
            anniversaries: list[Tag] = []
            for column in np.flatnonzero(passing[row]):
                tag = Tag(id=self.labels.ids[column],
                          score=round(min(1.0, max(0.0, float(decisions.combined[row, column]))),
                                      4),
                          evidence=self.evidence(decisions, row, column))
                (themes if self.labels.kinds[column] == "theme" else anniversaries).append(tag)
            themes.sort(key=lambda t: -t.score)
            anniversaries.sort(key=lambda t: -t.score)
            results.append(TagResult(bool(themes or anniversaries), themes, anniversaries))
        return results

    def tag(self, doc: Any) -> TagResult:
        """Tag one document: anything with title, text and published_at (or such a dict)."""
        return self.tag_many([doc])[0]

    def tag_item(self, item: Item) -> Item:
        """A copy of ``item`` with relevant, themes and anniversaries set."""
        result = self.tag(item)
        return item.model_copy(update={"relevant": result.relevant, "themes": result.themes,
                                       "anniversaries": result.anniversaries})

    def tag_items(self, items: Iterable[Item]) -> list[Item]:
        items = list(items)
        return [item.model_copy(update={"relevant": r.relevant, "themes": r.themes,
                                        "anniversaries": r.anniversaries})
                for item, r in zip(items, self.tag_many(items), strict=True)]


def resolve_model(plan: Plan, model_path: Path | None) -> tuple[ModelBundle | None, Path | None,
                                                                  str]:
    """The model to use for ``plan``: the data dir's, else the packaged one, else none."""
    candidates = [p for p in (model_path, packaged_model_path(plan.id)) if p is not None]
    problems = []
    for path in candidates:
        if not Path(path).exists():
            continue
        try:
            bundle = load_bundle(Path(path))
            bundle.check_plan(plan)
        except ModelFileError as exc:
            problems.append(str(exc))
            warn_once(f"cannot use the model: {exc}")
            continue
        return bundle, Path(path), f"model {bundle.model_version} ({path})"
    if problems:
        warn_once("no usable model: tagging with the plan's rules alone")
        return None, None, "rules only: " + "; ".join(problems)
    looked = ", ".join(str(p) for p in candidates)
    warn_once(f"no trained model for plan {plan.id!r} (looked in {looked}): tagging with the "
              "plan's rules alone; run 'dophu train' to make one")
    return None, None, f"rules only: no model for plan {plan.id!r}"


_cache: dict[tuple[str, str, float], Tagger] = {}
_cache_lock = threading.Lock()


def build_tagger(plan: Plan, model_path: Path | None = None) -> Tagger:
    """The tagger for ``plan`` (cached per process, per plan and model file version)."""
    path = Path(model_path) if model_path is not None else None
    stamp = path.stat().st_mtime if path is not None and path.exists() else 0.0
    key = (plan.model_dump_json(), str(path), stamp)
    with _cache_lock:
        tagger = _cache.get(key)
        if tagger is None:
            bundle, used, status = resolve_model(plan, path)
            tagger = Tagger(plan, bundle, model_path=used, status=status)
            _cache[key] = tagger
    return tagger
