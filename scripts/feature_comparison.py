"""Training settings side by side: cross-validation on the training part, and the held-out split.

    .venv/bin/python scripts/feature_comparison.py                    # every setting below
    .venv/bin/python scripts/feature_comparison.py shipped folded-60k  # some of them

Each setting trains a whole model (about 1.5 minutes here) and prints the combined
scorer's relevance F1, themes micro / macro and anniversaries micro on the
cross-validation of the training part (``info["validation"]``, what settings are
chosen on) and on the held-out split (looked at after the choice). This is how
session 7 compared the words as written with the folded ones, and session 8 the
precedents (docs/classifier.md). Session 7's settings are without precedents, as
they were measured.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from review_simulation import PLAN, figures  # noqa: E402

from classifier.corpus import load_corpus  # noqa: E402
from classifier.features import FeatureConfig  # noqa: E402
from classifier.training import TrainConfig, train_model  # noqa: E402
from dophu.config import load_plan  # noqa: E402

FOLDED = {"marked_words": False, "min_df": 2, "max_features": 60000}   # sessions 4-6
NONE = {"neighbours": 0}      # sessions 4-7: no precedents
SETTINGS: dict[str, TrainConfig] = {
    "shipped": TrainConfig(),
    "shipped-rs1": TrainConfig(random_state=1),
    # session 8: precedents (classifier/neighbours.py)
    "no-precedents": TrainConfig(**NONE),
    "no-precedents-rs1": TrainConfig(random_state=1, **NONE),
    "precedents-5": TrainConfig(neighbours=5),
    "precedents-5-rs1": TrainConfig(random_state=1, neighbours=5),
    "precedents-10-df2": TrainConfig(neighbour_max_df=0.02),
    # session 7: words as written
    "folded-60k": TrainConfig(features=FeatureConfig(**FOLDED), **NONE),
    "folded-60k-rs1": TrainConfig(random_state=1, features=FeatureConfig(**FOLDED), **NONE),
    "folded-120k": TrainConfig(features=FeatureConfig(**{**FOLDED, "max_features": 120000}),
                               **NONE),
    "written-60k": TrainConfig(features=FeatureConfig(min_df=2, max_features=60000), **NONE),
    "written-120k": TrainConfig(features=FeatureConfig(min_df=2, max_features=120000),
                                **NONE),
    "written-mindf2": TrainConfig(features=FeatureConfig(min_df=2), **NONE),
    "written-mindf2-C4": TrainConfig(C=4.0, features=FeatureConfig(min_df=2), **NONE),
}


def cross_validated(bundle) -> str:  # noqa: ANN001
    v = bundle.info["validation"]
    keys = ("relevance_f1", "theme_micro_f1", "theme_macro_f1", "anniversary_micro_f1")
    parts = []
    for subset in ("all", "real"):
        r, tm, tM, a = (v[subset]["combined"][k] for k in keys)
        parts.append(f"{subset} {r:.3f} {tm:.3f} / {tM:.3f} {a:.3f}")
    return " | ".join(parts)


def main() -> None:
    names = sys.argv[1:] or list(SETTINGS)
    unknown = [n for n in names if n not in SETTINGS]
    if unknown:
        raise SystemExit(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(SETTINGS)}")
    plan = load_plan(PLAN)
    corpus = load_corpus(plan)
    train, test = list(corpus.train), list(corpus.test)
    print("setting: CV relevance themes-micro / macro anniversaries || held-out the same")
    for name in names:
        started = time.perf_counter()
        bundle = train_model(plan, train, SETTINGS[name])
        print(f"{name}: CV {cross_validated(bundle)} || held-out {figures(plan, bundle, test)} "
              f"({time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
