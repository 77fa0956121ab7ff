"""Training with and without some labelled files, compared on the same items.

    .venv/bin/python scripts/data_comparison.py classifier/data/real_labelled_6[1-8].jsonl
    .venv/bin/python scripts/data_comparison.py --random-states 0,1 FILE...

Trains the shipped settings on the training part without the files' items, then with
them, and prints the combined scorer's relevance F1, themes micro / macro and
anniversaries micro on the cross-validation of the training part scored on the real items
both trainings share (an active-learning round's items are hard by design, so scoring
them too would lower the "with" figures for no fault of the model), and on the held-out
split. This is how session 9 measured active-learning round 5 (docs/classifier.md).
About 1.5 minutes a training.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from review_simulation import PLAN, figures  # noqa: E402

from classifier.corpus import load_corpus  # noqa: E402
from classifier.training import TrainConfig, train_model  # noqa: E402
from dophu.config import load_plan  # noqa: E402

KEYS = ("relevance_f1", "theme_micro_f1", "theme_macro_f1", "anniversary_micro_f1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path, help="labelled JSON Lines to compare")
    parser.add_argument("--random-states", default="0")
    args = parser.parse_args()
    compared: set[str] = set()
    for path in args.files:
        with path.open(encoding="utf-8") as lines:
            compared |= {json.loads(line)["id"] for line in lines if line.strip()}
    plan = load_plan(PLAN)
    corpus = load_corpus(plan)
    train, test = list(corpus.train), list(corpus.test)
    without = [item for item in train if item.id not in compared]
    shared = {"shared": lambda item: item.form == "real" and item.id not in compared}
    print(f"{len(train) - len(without):,} of the {len(train):,} training items are in the files")
    print("training data: CV relevance themes-micro / macro anniversaries || held-out "
          "(all | real) the same")
    for state in (int(s) for s in args.random_states.split(",")):
        for name, items in (("without", without), ("with", train)):
            started = time.perf_counter()
            bundle = train_model(plan, items, TrainConfig(random_state=state),
                                 scored_subsets=shared)
            cv = bundle.info["validation"]["shared"]["combined"]
            r, tm, tM, a = (cv[k] for k in KEYS)
            print(f"{name} ({len(items):,}), random state {state}: CV {r:.3f} {tm:.3f} / {tM:.3f} "
                  f"{a:.3f} || held-out {figures(plan, bundle, test)} "
                  f"({time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
