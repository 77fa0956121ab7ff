"""The review queue: stored items whose tags the classifier is least sure of.

A person's confirm or reject is worth most where the tagger hesitates: items
whose score for a label lies just above or just below that label's threshold.
(Session 5 labelled real items drawn this way: 7,200 of them raised the
relevance F1 on the real held-out items from 0.859 to 0.895; see
docs/classifier.md.) The queue scores the stored items of a period
with the current tagger, keeps each (item, label) whose score is within
``max_distance`` of the threshold on the log-odds scale, leaves out the pairs
somebody has already answered, and lists the nearest first. Every answer goes
through the ordinary feedback route and into the next ``dophu train``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from classifier.tagger import Tagger
from dophu.models import Feedback, Item
from store.base import MAX_PAGE_SIZE, Filters, SearchQuery, Store

DEFAULT_DAYS = 30            # the period when none is given: the last 30 days
DEFAULT_MAX_DISTANCE = 1.0   # log-odds: the score's odds within a factor e of the threshold's
DEFAULT_MAX_ITEMS = 2000     # items scored per request (newest first): about 3 s of full texts
SCORE_BATCH = 256
_EPSILON = 1e-4


def log_odds(p: np.ndarray | float) -> np.ndarray:
    clipped = np.clip(np.asarray(p, dtype=float), _EPSILON, 1 - _EPSILON)
    return np.log(clipped / (1 - clipped))


def threshold_distance(scores: np.ndarray, cut: np.ndarray) -> np.ndarray:
    """How far each score is from its threshold: |log-odds(score) - log-odds(threshold)|."""
    return np.abs(log_odds(scores) - log_odds(cut))


@dataclass(frozen=True)
class Uncertain:
    """One label of one item that the tagger nearly gave or nearly withheld."""

    item: Item
    label_kind: str
    label: str
    score: float
    threshold: float
    distance: float        # |log-odds(score) - log-odds(threshold)|
    tagged: bool           # the current tagger gives the tag (score >= threshold)
    stored: bool           # the stored item carries the tag (what confirm/reject act on)
    evidence: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReviewQueue:
    date_from: date | None
    date_to: date | None
    items_in_period: int
    items_scored: int
    model: str | None          # the model version scored with; None: the plan's rules alone
    candidates: list[Uncertain]

    def as_json(self, label_name: Callable[[str, str], str]) -> dict[str, Any]:
        """The shape of ``GET /api/review`` and ``dophu review --json`` (label_name(kind,
        id) gives a label's name in the plan)."""
        return {
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "items_in_period": self.items_in_period, "items_scored": self.items_scored,
            "model": self.model,
            "candidates": [{
                "item": {"id": c.item.id, "title": c.item.title, "url": c.item.url,
                         "source": c.item.source, "unit": c.item.unit,
                         "published_at": (c.item.published_at.isoformat()
                                          if c.item.published_at else None)},
                "label_kind": c.label_kind, "label": c.label,
                "label_name": label_name(c.label_kind, c.label), "score": c.score,
                "threshold": c.threshold, "distance": c.distance, "tagged": c.tagged,
                "stored": c.stored, "evidence": c.evidence} for c in self.candidates]}


def default_period(date_from: date | None, date_to: date | None, today: date
                   ) -> tuple[date, date | None]:
    """No dates: the last 30 days (today included); only ``to``: the 30 days up to it."""
    if date_from is None:
        end = date_to or today
        return end - timedelta(days=DEFAULT_DAYS - 1), end
    return date_from, date_to


def answered_pairs(feedback: Iterable[Feedback]) -> set[tuple[str, str]]:
    """(item id, label) pairs somebody has already confirmed, rejected, added or dismissed."""
    return {(entry.item_id, entry.label) for entry in feedback}


def uncertain_labels(tagger: Tagger, items: Sequence[Item], *,
                     max_distance: float = DEFAULT_MAX_DISTANCE,
                     labels: Iterable[str] | None = None,
                     answered: set[tuple[str, str]] | frozenset[tuple[str, str]] = frozenset(),
                     limit: int | None = None) -> list[Uncertain]:
    """The (item, label) pairs of ``items`` within ``max_distance`` of a threshold, nearest
    first (ties: in the order of ``items``, then of the plan's labels), at most ``limit``.

    Two passes: distances for every pair, then evidence for the pairs kept only (a wide
    band over many items would otherwise explain thousands of pairs nobody reads)."""
    if max_distance < 0 or not math.isfinite(max_distance):
        raise ValueError(f"max_distance must be a finite number >= 0, not {max_distance!r}")
    wanted = None if labels is None else set(labels)
    if wanted is not None:
        unknown = wanted - set(tagger.labels.ids)
        if unknown:
            raise ValueError(f"unknown label id(s) {sorted(unknown)!r} in plan "
                             f"{tagger.plan.id!r}")
    columns = np.array([c for c, label in enumerate(tagger.labels.ids)
                        if wanted is None or label in wanted], dtype=int)
    if not len(columns):
        return []
    near: list[tuple[float, int, int]] = []          # (distance, item index, label column)
    for start in range(0, len(items), SCORE_BATCH):
        decisions = tagger.decide(items[start:start + SCORE_BATCH])
        distance = threshold_distance(decisions.combined[:, columns],
                                      decisions.cut[:, columns])
        for row, position in zip(*np.nonzero(distance <= max_distance), strict=True):
            index, column = start + int(row), int(columns[position])
            if (items[index].id, tagger.labels.ids[column]) not in answered:
                near.append((float(distance[row, position]), index, column))
    near.sort()
    kept = near if limit is None else near[:limit]
    chosen = sorted({index for _, index, _ in kept})
    decisions = tagger.decide([items[index] for index in chosen])
    row_of = {index: row for row, index in enumerate(chosen)}
    found = []
    for distance_, index, column in kept:
        item, row = items[index], row_of[index]
        label, kind = tagger.labels.ids[column], tagger.labels.kinds[column]
        score = float(decisions.combined[row, column])
        threshold = float(decisions.cut[row, column])
        found.append(Uncertain(
            item=item, label_kind=kind, label=label,
            score=round(min(1.0, max(0.0, score)), 4), threshold=round(threshold, 4),
            distance=round(distance_, 4), tagged=score >= threshold,
            stored=label in {t.id for t in item.tags(kind)},
            evidence=tagger.evidence(decisions, row, column)))
    return found


def items_of_period(store: Store, filters: Filters, max_items: int
                    ) -> tuple[int, Iterator[Item]]:
    """How many stored items match ``filters`` (duplicates left out), and the newest
    ``max_items`` of them."""
    query = SearchQuery(**filters.model_dump(exclude={"include_duplicates"}),
                        include_duplicates=False, sort="date", size=0, facets=False,
                        highlight=False)
    total = store.search(query).total

    def newest() -> Iterator[Item]:
        given = 0
        for page in range(1, max_items // MAX_PAGE_SIZE + 2):
            result = store.search(query.model_copy(update={"size": MAX_PAGE_SIZE, "page": page}))
            for hit in result.items:
                if given == max_items:
                    return
                yield hit.item
                given += 1
            if len(result.items) < MAX_PAGE_SIZE:
                return

    return total, newest()


def build_queue(store: Store, tagger: Tagger, filters: Filters, *, limit: int = 50,
                labels: Iterable[str] | None = None, max_items: int = DEFAULT_MAX_ITEMS,
                max_distance: float = DEFAULT_MAX_DISTANCE) -> ReviewQueue:
    """The ``limit`` most uncertain (item, label) pairs among the newest ``max_items``
    stored items matching ``filters`` that nobody has answered yet."""
    if limit < 1 or max_items < 1:
        raise ValueError("limit and max_items must be at least 1")
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise ValueError(f"the period starts ({filters.date_from}) after it ends "
                         f"({filters.date_to})")
    total, newest = items_of_period(store, filters, max_items)
    items = list(newest)
    answered = answered_pairs(store.list_feedback())
    candidates = uncertain_labels(tagger, items, max_distance=max_distance, labels=labels,
                                  answered=answered, limit=limit)
    return ReviewQueue(date_from=filters.date_from, date_to=filters.date_to,
                       items_in_period=total, items_scored=len(items), model=tagger.model_version,
                       candidates=candidates)
