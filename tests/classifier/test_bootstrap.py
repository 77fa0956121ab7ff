"""Bootstrap intervals of the headline figures (`dophu evaluate --bootstrap`)."""

from __future__ import annotations

import numpy as np

from classifier.engine import Labels
from classifier.evaluation import (
    bootstrap_intervals,
    headline_figures,
    label_metrics,
    resample_counts,
    resampled_figures,
)
from dophu.config import Plan


def _gold_and_guesses(labels: Labels, n: int = 60, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.random((n, len(labels))) < 0.15
    noise = rng.random((n, len(labels))) < 0.1
    return truth, truth ^ noise        # a tagger right about 90% of the pairs


def test_resampled_figures_equal_label_metrics_on_the_resampled_items(plan: Plan) -> None:
    """Counting each item as often as it is drawn gives what copying it would."""
    labels = Labels(plan)
    truth, predicted = _gold_and_guesses(labels)
    counts = next(resample_counts(len(truth), 6, seed=3))
    assert counts.shape == (6, len(truth)) and (counts.sum(axis=1) == len(truth)).all()
    figures = resampled_figures(labels, truth, predicted, counts)
    for b, row in enumerate(counts):
        drawn = np.repeat(np.arange(len(truth)), row)
        expected = headline_figures(label_metrics(labels, truth[drawn], predicted[drawn]))
        for name, value in expected.items():
            # label_metrics rounds to 4 places (macro: each label's F1, then the mean)
            assert abs(figures[name][b] - value) < 2e-4, (name, b)


def test_intervals_bracket_the_figure_and_repeat_with_the_seed(plan: Plan) -> None:
    labels = Labels(plan)
    truth, predicted = _gold_and_guesses(labels, n=300)
    point = headline_figures(label_metrics(labels, truth, predicted))
    intervals = bootstrap_intervals(labels, truth, predicted, resamples=700)
    assert intervals == bootstrap_intervals(labels, truth, predicted, resamples=700)
    assert intervals["resamples"] == 700 and intervals["confidence"] == 0.95
    for name, value in point.items():
        low, high = intervals[name]
        assert low < high and low <= value <= high, name
    other = bootstrap_intervals(labels, truth, predicted, resamples=700, seed=1)
    assert other["relevance_f1"] != intervals["relevance_f1"]
    # more resamples than one chunk (500) are drawn in chunks and give the same kind of span
    wide = bootstrap_intervals(labels, truth, predicted, resamples=1200)["relevance_f1"]
    assert abs(wide[0] - intervals["relevance_f1"][0]) < 0.02


def test_a_perfect_tagger_has_no_spread_and_absent_labels_no_interval(plan: Plan) -> None:
    labels = Labels(plan)
    truth, _ = _gold_and_guesses(labels)
    anniversaries = np.array([kind == "anniversary" for kind in labels.kinds])
    truth[:, anniversaries] = False            # no anniversary in the gold items
    intervals = bootstrap_intervals(labels, truth, truth.copy(), resamples=200)
    assert intervals["relevance_f1"] == [1.0, 1.0]
    assert intervals["theme_macro_f1"] == [1.0, 1.0]
    assert intervals["anniversary_macro_f1"] is None
    assert label_metrics(labels, truth, truth)["anniversary"]["macro_f1"] is None
