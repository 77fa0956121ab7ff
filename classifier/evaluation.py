"""Measuring the tagger against gold labels: per label, averaged, relevance, and the traps.

Every figure is computed for three scorers on the same items, so the value of
each part is visible: the plan's rules alone (phrases + dates), the learned
model alone, and their combination (what the tagger emits).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from classifier.corpus import LabelledItem
from classifier.engine import (
    Labels,
    Scores,
    prepare,
    score_batch,
    short_flags,
    threshold_matrix,
)
from classifier.matcher import PhraseMatcher
from classifier.model import MODES, ModelBundle
from classifier.normalize import normalize_phrase
from classifier.review import DEFAULT_MAX_DISTANCE, threshold_distance
from dophu.config import Plan

# Look-alikes of the labelling guide (rule 4) and the labels they imitate.
TRAPS: dict[str, tuple[str, ...]] = {
    "giải phóng mặt bằng": ("giai-phong-mien-nam-50",),
    "đổi mới sáng tạo": ("co-do-40-nam",),
    "đổi mới giáo dục": ("co-do-40-nam",),
    "kỷ nguyên số": ("ky-nguyen-moi",),
    "kỷ nguyên AI": ("ky-nguyen-moi",),
    "Đại hội Thể dục thể thao": ("dai-hoi-dang",),
    "đại hội cổ đông": ("dai-hoi-dang",),
    "Đại hội đồng cổ đông": ("dai-hoi-dang",),
    "Đại hội Hội Nông dân": ("dai-hoi-dang",),
    "Quốc khánh Lào": ("quoc-khanh-80",),
    "năm thành lập trường": ("*anniversary",),
    "thành lập trường": ("*anniversary",),
    "kỷ niệm ngày cưới": ("*anniversary",),
    "kỷ nguyên trí tuệ nhân tạo": ("ky-nguyen-moi",),
    "Đại hội Thể thao": ("dai-hoi-dang",),
    "Đại hội Đoàn": ("dai-hoi-dang",),
    "Đại hội Công đoàn": ("dai-hoi-dang",),
    "thi đua giành": ("thi-dua-khen-thuong",),
}


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def label_metrics(labels: Labels, truth: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    """Per-label P/R/F1; micro and macro per kind; relevance.

    Macro averages are over the labels that occur in the gold items (a label
    absent from them has no recall to measure; its false positives still
    count in the micro average and in relevance).
    """
    per_label: dict[str, Any] = {}
    totals: dict[str, list[int]] = {"theme": [0, 0, 0], "anniversary": [0, 0, 0]}
    macro: dict[str, list[float]] = {"theme": [], "anniversary": []}
    for j, label in enumerate(labels.ids):
        kind = labels.kinds[j]
        t, p = truth[:, j].astype(bool), predicted[:, j].astype(bool)
        tp, fp, fn = int((t & p).sum()), int((~t & p).sum()), int((t & ~p).sum())
        entry = {"kind": kind, "support": int(t.sum()), "tp": tp, "fp": fp, "fn": fn,
                 **_prf(tp, fp, fn)}
        per_label[label] = entry
        totals[kind] = [a + b for a, b in zip(totals[kind], (tp, fp, fn), strict=True)]
        if entry["support"]:
            macro[kind].append(entry["f1"])
    summary = {}
    for kind in ("theme", "anniversary"):
        micro = _prf(*totals[kind])
        summary[kind] = {"micro": micro,
                         "macro_f1": round(float(np.mean(macro[kind])), 4) if macro[kind]
                         else None,
                         "labels_in_gold": len(macro[kind])}
    gold_rel, pred_rel = truth.any(axis=1), predicted.any(axis=1)
    relevance = {"support": int(gold_rel.sum()),
                 **_prf(int((gold_rel & pred_rel).sum()), int((~gold_rel & pred_rel).sum()),
                        int((gold_rel & ~pred_rel).sum()))}
    return {"items": int(truth.shape[0]), "relevance": relevance, **summary,
            "labels": per_label}


# The headline figures (what the targets and the intervals are about).
HEADLINE = ("relevance_f1", "theme_micro_f1", "theme_macro_f1", "anniversary_micro_f1",
            "anniversary_macro_f1")
RESAMPLE_CHUNK = 500     # resamples drawn at a time: memory stays ~ chunk × items


def headline_figures(metrics: dict[str, Any]) -> dict[str, float | None]:
    """The HEADLINE figures of a label_metrics result, flat."""
    return {"relevance_f1": metrics["relevance"]["f1"],
            "theme_micro_f1": metrics["theme"]["micro"]["f1"],
            "theme_macro_f1": metrics["theme"]["macro_f1"],
            "anniversary_micro_f1": metrics["anniversary"]["micro"]["f1"],
            "anniversary_macro_f1": metrics["anniversary"]["macro_f1"]}


def resample_counts(n_items: int, resamples: int, seed: int = 0) -> Iterator[np.ndarray]:
    """Chunks of (resamples, items): how many times each item is drawn in each bootstrap
    resample; the same seed gives the same resamples."""
    rng = np.random.default_rng(seed)
    for start in range(0, resamples, RESAMPLE_CHUNK):
        size = min(RESAMPLE_CHUNK, resamples - start)
        yield rng.multinomial(n_items, np.full(n_items, 1.0 / n_items), size=size)


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    """F1 from counts; NaN where it is undefined (no gold positive and no guess at all: a
    resample of negatives only), which the intervals then leave out."""
    denominator = 2 * tp + fp + fn
    return np.divide(2 * tp, denominator, out=np.full(np.shape(tp), np.nan),
                     where=denominator > 0)


def resampled_figures(labels: Labels, truth: np.ndarray, predicted: np.ndarray,
                      counts: np.ndarray) -> dict[str, np.ndarray]:
    """The headline figures of label_metrics on every resample (rows of ``counts``), computed
    from per-item counts in one product rather than by copying items."""
    truth, predicted = truth.astype(bool), predicted.astype(bool)
    counts = counts.astype(float)
    pairs = {name: counts @ cells.astype(float) for name, cells in (
        ("tp", truth & predicted), ("fp", ~truth & predicted), ("fn", truth & ~predicted))}
    gold, guess = truth.any(axis=1), predicted.any(axis=1)
    figures = {"relevance_f1": _f1(counts @ (gold & guess), counts @ (~gold & guess),
                                   counts @ (gold & ~guess))}
    kinds = np.array(labels.kinds)
    for kind in ("theme", "anniversary"):
        tp, fp, fn = (pairs[k][:, kinds == kind] for k in ("tp", "fp", "fn"))
        figures[f"{kind}_micro_f1"] = _f1(tp.sum(axis=1), fp.sum(axis=1), fn.sum(axis=1))
        present = (tp + fn) > 0           # as label_metrics: labels found in the gold items
        sums = np.where(present, np.nan_to_num(_f1(tp, fp, fn)), 0.0).sum(axis=1)
        found = present.sum(axis=1)
        figures[f"{kind}_macro_f1"] = np.divide(sums, found, out=np.full(sums.shape, np.nan),
                                                where=found > 0)   # NaN: no label in the gold
    return figures


def percentile_interval(values: np.ndarray, confidence: float) -> list[float] | None:
    """The central ``confidence`` share of ``values`` (NaN left out; None if nothing is left)."""
    values = values[~np.isnan(values)]
    if not len(values):
        return None
    tail = (1 - confidence) / 2 * 100
    return [round(float(np.percentile(values, q)), 4) for q in (tail, 100 - tail)]


def bootstrap_intervals(labels: Labels, truth: np.ndarray, predicted: np.ndarray,
                        resamples: int, confidence: float = 0.95, seed: int = 0
                        ) -> dict[str, Any]:
    """Percentile intervals of the headline figures over bootstrap resamples of the items:
    how far a figure could move on another sample of the same size, so that a difference
    smaller than that is read as noise."""
    chunks = [resampled_figures(labels, truth, predicted, counts)
              for counts in resample_counts(truth.shape[0], resamples, seed)]
    return {"resamples": resamples, "confidence": confidence, "seed": seed,
            **{name: percentile_interval(np.concatenate([chunk[name] for chunk in chunks]),
                                         confidence)
               for name in HEADLINE}}


def trap_phrases(plan: Plan) -> dict[str, tuple[str, ...]]:
    """The look-alikes to check: the guide's list plus the plan's negative phrases."""
    known = set(plan.label_ids("theme")) | set(plan.label_ids("anniversary"))
    traps: dict[str, tuple[str, ...]] = {}
    for phrase, targets in TRAPS.items():
        traps[phrase] = targets
    for entry in [*plan.themes, *plan.anniversaries]:
        for phrase in entry.negative:
            key = next((p for p in traps if normalize_phrase(p)[0] == normalize_phrase(phrase)[0]),
                       phrase)
            traps[key] = tuple(sorted(set(traps.get(key, ())) | {entry.id}))
    for phrase in plan.negative_contexts:
        if not any(normalize_phrase(p)[0] == normalize_phrase(phrase)[0] for p in traps):
            traps[phrase] = ("*",)
    anniversaries = tuple(plan.label_ids("anniversary"))
    resolved = {}
    for phrase, targets in traps.items():
        expanded: set[str] = set()
        for target in targets:
            if target == "*":
                expanded |= known
            elif target == "*anniversary":
                expanded |= set(anniversaries)
            elif target in known:
                expanded.add(target)
        if expanded:
            resolved[phrase] = tuple(sorted(expanded))
    return resolved


def trap_confusion(plan: Plan, labels: Labels, joined_texts: Sequence[str], truth: np.ndarray,
                   predicted: np.ndarray) -> list[dict[str, Any]]:
    """For each look-alike: items containing it, and how many got a label it imitates wrongly."""
    index = {label: j for j, label in enumerate(labels.ids)}
    padded = [f" {text} " for text in joined_texts]
    rows = []
    for phrase, targets in trap_phrases(plan).items():
        key = f" {normalize_phrase(phrase)[0]} "
        columns = [index[t] for t in targets]
        containing = [i for i, text in enumerate(padded) if key in text]
        wrong = [i for i in containing
                 if any(predicted[i, j] and not truth[i, j] for j in columns)]
        rows.append({"phrase": phrase, "labels": list(targets), "items": len(containing),
                     "wrongly_tagged": len(wrong)})
    return rows


def real_news_subset(items: Sequence[LabelledItem]) -> dict[str, list[bool]]:
    """{"real": flags} when the items mix real news with hand-written ones, else {}."""
    flags = [i.form == "real" for i in items]
    return {"real": flags} if any(flags) and not all(flags) else {}


@dataclass
class Scored:
    """Gold labels and every available mode's scores and decisions on some items."""

    labels: Labels
    truth: np.ndarray
    scores: Scores
    cut: dict[str, np.ndarray]
    joined: list[str]

    @property
    def modes(self) -> tuple[str, ...]:
        return tuple(self.cut)

    def predicted(self, mode: str) -> np.ndarray:
        return self.scores.of(mode) >= self.cut[mode]


def score_items(plan: Plan, bundle: ModelBundle | None, items: Sequence[LabelledItem]
                ) -> Scored:
    """Score gold items once, for every mode the model allows."""
    labels = Labels(plan)
    matcher = PhraseMatcher(plan)
    features = bundle.features.config if bundle else None
    prepared = [prepare(labels, matcher, i.title, i.text, i.published_at, normalized=True,
                        features=features) for i in items]
    scores, _ = score_batch(labels, prepared, bundle)
    truth = np.array([[int(label in i.labels) for label in labels.ids] for i in items],
                     dtype=bool).reshape(len(items), len(labels))
    short = short_flags(prepared)
    modes = MODES if bundle is not None else ("rules",)
    cut = {mode: threshold_matrix(labels, bundle.thresholds if bundle else None, mode, short)
           for mode in modes}
    return Scored(labels, truth, scores, cut, [p.doc.joined for p in prepared])


def _masks(n_items: int, subsets: dict[str, Sequence[bool]] | None
           ) -> dict[str, np.ndarray]:
    flags = {"all": [True] * n_items, **(subsets or {})}
    masks = {name: np.array(f, dtype=bool) for name, f in flags.items()}
    return {name: mask for name, mask in masks.items() if mask.any()}


def evaluate_items(plan: Plan, bundle: ModelBundle | None, items: Sequence[LabelledItem],
                   subsets: dict[str, Sequence[bool]] | None = None, *,
                   bootstrap: int = 0) -> dict[str, Any]:
    """Metrics of every available mode on ``items`` (and on named subsets of them); with
    ``bootstrap`` resamples, each mode's headline figures also get 95% ``intervals``."""
    scored = score_items(plan, bundle, items)
    labels, truth = scored.labels, scored.truth
    result: dict[str, Any] = {}
    for name, mask in _masks(len(items), subsets).items():
        result[name] = {}
        for mode in scored.modes:
            predicted = scored.predicted(mode)
            metrics = label_metrics(labels, truth[mask], predicted[mask])
            metrics["traps"] = trap_confusion(
                plan, labels, [j for j, m in zip(scored.joined, mask, strict=True) if m],
                truth[mask], predicted[mask])
            if mode == scored.modes[-1]:                 # the mode the tagger uses
                metrics["review_queue"] = review_queue_yield(
                    scored.scores.of(mode)[mask], scored.cut[mode][mask], truth[mask])
            if bootstrap:
                metrics["intervals"] = bootstrap_intervals(labels, truth[mask],
                                                           predicted[mask], bootstrap)
            result[name][mode] = metrics
    return result


def compare_models(plan: Plan, first: ModelBundle, second: ModelBundle,
                   items: Sequence[LabelledItem], subsets: dict[str, Sequence[bool]] | None = None,
                   *, resamples: int = 1000, confidence: float = 0.95, seed: int = 0
                   ) -> dict[str, Any]:
    """The second model's headline figures minus the first's (combined scorer), with a
    paired bootstrap interval: both are scored on the same resamples of the items, so the
    interval is that of the difference, narrower than either figure's own."""
    one, two = score_items(plan, first, items), score_items(plan, second, items)
    labels, truth = one.labels, one.truth
    result: dict[str, Any] = {}
    for name, mask in _masks(len(items), subsets).items():
        a_pred, b_pred = one.predicted("combined")[mask], two.predicted("combined")[mask]
        points = [headline_figures(label_metrics(labels, truth[mask], p))
                  for p in (a_pred, b_pred)]
        gaps: dict[str, list[np.ndarray]] = {key: [] for key in HEADLINE}
        for counts in resample_counts(int(mask.sum()), resamples, seed):
            a_fig = resampled_figures(labels, truth[mask], a_pred, counts)
            b_fig = resampled_figures(labels, truth[mask], b_pred, counts)
            for key in HEADLINE:
                gaps[key].append(b_fig[key] - a_fig[key])
        rows = {}
        for key in HEADLINE:
            first_value, second_value = points[0][key], points[1][key]
            rows[key] = {
                "first": first_value, "second": second_value,
                "difference": (None if first_value is None or second_value is None
                               else round(second_value - first_value, 4)),
                "interval": percentile_interval(np.concatenate(gaps[key]), confidence)}
        result[name] = rows
    return {"resamples": resamples, "confidence": confidence, "seed": seed,
            "subsets": result}


def review_queue_yield(scores: np.ndarray, cut: np.ndarray, truth: np.ndarray,
                       max_distance: float = DEFAULT_MAX_DISTANCE) -> dict[str, Any]:
    """How many of the wrong decisions the review queue would put before a person: the
    (item, label) pairs within ``max_distance`` of the threshold, and how many are wrong."""
    wrong = (scores >= cut) != truth
    near = threshold_distance(scores, cut) <= max_distance
    return {"max_distance": max_distance, "pairs": int(wrong.size),
            "wrong": int(wrong.sum()), "queued": int(near.sum()),
            "queued_items": int(near.any(axis=1).sum()),
            "queued_wrong": int((near & wrong).sum())}
