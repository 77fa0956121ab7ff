"""What people's answers to the review queue are worth, simulated on the labelled corpus.

    .venv/bin/python scripts/review_simulation.py [--pool 6000] [--answers 1000,3000]
    .venv/bin/python scripts/review_simulation.py --seeds 0,1,2,3,4

Holds back ``--pool`` real items of the training part as the "stored items", trains on the
rest, then answers ``K`` (item, label) pairs from the gold labels as people would through
the queue (the pairs nearest a threshold) or at random, retrains with those answers as
feedback (each item known for the answered labels only) and evaluates every model on the
held-out split. ``--seeds`` instead trains on the whole training part with several random
states, to show how much the figures move with the folds alone. Several minutes each.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from classifier.corpus import LabelledItem, load_corpus  # noqa: E402
from classifier.evaluation import evaluate_items, real_news_subset  # noqa: E402
from classifier.review import uncertain_labels  # noqa: E402
from classifier.tagger import Tagger  # noqa: E402
from classifier.training import TrainConfig, train_model  # noqa: E402
from dophu.config import load_plan  # noqa: E402
from dophu.models import Item  # noqa: E402

PLAN = REPO / "config" / "plans" / "can-tho-chu-de-lon-2025.yaml"


def figures(plan, bundle, test) -> str:  # noqa: ANN001
    """relevance F1, themes micro/macro, anniversaries micro, on all and real held-out items."""
    result = evaluate_items(plan, bundle, test, real_news_subset(test))
    parts = []
    for subset in ("all", "real"):
        m = result[subset]["combined"]
        parts.append(f"{subset} {m['relevance']['f1']:.3f} {m['theme']['micro']['f1']:.3f} / "
                     f"{m['theme']['macro_f1']:.3f} {m['anniversary']['micro']['f1']:.3f}")
    return " | ".join(parts)


def answers(pairs, gold, kinds) -> list[LabelledItem]:  # noqa: ANN001
    """The answered pairs as feedback items: known for the answered labels only."""
    known: dict[str, set[str]] = {}
    for item_id, label in pairs:
        known.setdefault(item_id, set()).add(label)
    made = []
    for item_id, labels in known.items():
        item = gold[item_id]
        yes = {label for label in labels if label in item.labels}
        made.append(LabelledItem(
            id=f"feedback:{item_id}", title=item.title, text=item.text,
            published_at=item.published_at,
            themes=frozenset(x for x in yes if kinds[x] == "theme"),
            anniversaries=frozenset(x for x in yes if kinds[x] == "anniversary"),
            form="feedback", known=frozenset(labels)))
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pool", type=int, default=6000)
    parser.add_argument("--answers", default="1000,3000")
    parser.add_argument("--seeds", default="")
    args = parser.parse_args()
    plan = load_plan(PLAN)
    corpus = load_corpus(plan)
    test = list(corpus.test)
    print("subset relevance-F1 themes-micro / macro anniversaries-micro", flush=True)
    if args.seeds:
        for seed in (int(s) for s in args.seeds.split(",")):
            bundle = train_model(plan, list(corpus.train), TrainConfig(random_state=seed))
            print(f"random_state {seed}: {figures(plan, bundle, test)}", flush=True)
        return
    real = [i for i in corpus.train if i.form == "real"]
    held = {i.id for i in random.Random(0).sample(real, args.pool)}
    base = [i for i in corpus.train if i.id not in held]
    pool = [i for i in corpus.train if i.id in held]
    gold = {i.id: i for i in pool}
    started = time.perf_counter()
    first = train_model(plan, base, TrainConfig())
    print(f"trained on {len(base)} items ({time.perf_counter() - started:.0f} s), "
          f"{len(pool)} held back: {figures(plan, first, test)}", flush=True)
    tagger = Tagger(plan, first)
    kinds = dict(zip(tagger.labels.ids, tagger.labels.kinds, strict=True))
    stored = [Item(id=i.id, source="simulation", unit="simulation", kind="newspaper",
                   title=i.title, text=i.text, published_at=i.published_at) for i in pool]
    queue = uncertain_labels(tagger, stored, max_distance=10.0)
    every = [(i.id, label) for i in pool for label in tagger.labels.ids]
    for k in (int(x) for x in args.answers.split(",")):
        nearest = queue[:k]
        corrected = sum((c.label in gold[c.item.id].labels) != c.tagged for c in nearest)
        queued = answers([(c.item.id, c.label) for c in nearest], gold, kinds)
        bundle = train_model(plan, base + queued, TrainConfig())
        print(f"{k} queue answers on {len(queued)} items ({corrected} correct the tagger): "
              f"{figures(plan, bundle, test)}", flush=True)
        drawn = random.Random(k).sample(every, k)
        picked = answers(drawn, gold, kinds)
        bundle = train_model(plan, base + picked, TrainConfig())
        yes = sum(label in gold[item_id].labels for item_id, label in drawn)
        print(f"{k} random answers on {len(picked)} items ({yes} say yes): "
              f"{figures(plan, bundle, test)}", flush=True)
    bundle = train_model(plan, base + pool, TrainConfig())
    print(f"all {len(pool)} held-back items fully labelled: {figures(plan, bundle, test)}",
          flush=True)


if __name__ == "__main__":
    main()
