"""How the model does on news that comes after the news it learned from.

The held-out split is by a hash of the id, so the same week's news (often the
same event, told by two outlets) sits on both sides of it, and the held-out
figures say how well the model knows the period it was trained on. A tool that
tags tomorrow's news needs the other figure too: train only on items published
before a date, test on held-out items published some time after it, and set
that against a model trained on a random sample of the same size (the same
test items), so that the difference is the cost of facing later news and not
of having fewer items.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from classifier.corpus import LabelledItem
from classifier.evaluation import evaluate_items, real_news_subset
from classifier.training import TrainConfig, train_model
from dophu.config import Plan

DEFAULT_GAP = timedelta(days=31)


def published_day(item: LabelledItem) -> date | None:
    return item.published_at.date() if item.published_at else None


def time_split_evaluation(plan: Plan, training: Sequence[LabelledItem],
                          heldout: Sequence[LabelledItem], trained_before: date,
                          tested_from: date | None = None, *, seed: int = 0,
                          config: TrainConfig | None = None) -> dict[str, Any]:
    """Metrics of a model trained before ``trained_before`` and of a same-size random one.

    ``training`` is the training part (items without a date count as earlier news);
    the test items are the ``heldout`` items published on ``tested_from`` or later
    (default: a month after ``trained_before``). Raises ValueError when either side is
    too small to say anything.
    """
    tested_from = tested_from or trained_before + DEFAULT_GAP
    if tested_from < trained_before:
        raise ValueError(f"tested-from {tested_from} is before trained-before {trained_before}")
    earlier = [i for i in training
               if (day := published_day(i)) is None or day < trained_before]
    later = [i for i in heldout if (day := published_day(i)) is not None and day >= tested_from]
    config = config or TrainConfig()
    if len(earlier) < config.folds * 2:
        raise ValueError(f"only {len(earlier)} training item(s) published before "
                         f"{trained_before}; need at least {config.folds * 2}")
    if not later:
        raise ValueError(f"no held-out item published on {tested_from} or later")
    if len(earlier) == len(training):
        raise ValueError(f"every training item was published before {trained_before}: "
                         "nothing to compare with")
    sample = random.Random(seed).sample(list(training), len(earlier))
    subsets = real_news_subset(later)
    results = {}
    for name, items in (("trained_before", earlier), ("random_sample", sample)):
        bundle = train_model(plan, items, config, data_hash=f"time-split-{name}")
        results[name] = evaluate_items(plan, bundle, later, subsets)
    return {"trained_before": trained_before.isoformat(), "tested_from": tested_from.isoformat(),
            "train_items": len(earlier), "training_part": len(training),
            "test_items": len(later), "test_relevant": sum(i.relevant for i in later),
            "seed": seed, "results": results}
