"""What is left to label in the shared corpus, as the shipped model sees it.

    .venv/bin/python scripts/unlabelled_pool.py [--corpus ../shared/data/vn-news-2025-2026.jsonl.gz]

Active learning draws from the unlabelled items of the training side of the split. Before a
round, this says whether one is worth it (about a minute here):

- per side of the split, and per anniversary of the plan: how many items published inside
  the anniversary's window carry one of its phrases, labelled and unlabelled (reposts of a
  labelled title are not counted as unlabelled: labelling them teaches nothing new);
- on the training side: how many unlabelled items the model tags, how many lie within 1, 2
  and 3 log-odds of a threshold (what uncertainty sampling draws), and how many have
  precedents voting for a label the model does not give (what session 9's round drew).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from classifier.corpus import load_corpus, split_of  # noqa: E402
from classifier.engine import rule_scores  # noqa: E402
from classifier.review import log_odds  # noqa: E402
from classifier.tagger import build_tagger  # noqa: E402
from dophu.config import load_plan  # noqa: E402
from dophu.dates import parse_datetime  # noqa: E402
from dophu.text import fold_lower, normalize_text  # noqa: E402

PLAN = REPO / "config" / "plans" / "can-tho-chu-de-lon-2025.yaml"
CORPUS = REPO.parent / "shared" / "data" / "vn-news-2025-2026.jsonl.gz"
BATCH = 2000


def title_key(title: str) -> str:
    """A title without case, diacritics or spacing differences: how reposts are recognised."""
    return " ".join(fold_lower(normalize_text(title)).split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()
    plan = load_plan(PLAN)
    labelled = load_corpus(plan)
    labelled_ids = {i.id for i in (*labelled.train, *labelled.test)}
    seen = {title_key(i.title) for i in (*labelled.train, *labelled.test)}
    tagger = build_tagger(plan)
    labels = tagger.labels
    anniversaries = [(labels.ids.index(a.id), a) for a in plan.anniversaries]

    counts: Counter[tuple[str, str, str]] = Counter()
    pool: list[dict] = []
    with gzip.open(args.corpus, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            item_id = "real-" + record["id"]
            is_labelled = item_id in labelled_ids
            key = title_key(record.get("title") or "")
            if not is_labelled and key in seen:
                continue          # a repost of a labelled title
            seen.add(key)
            record["_side"] = split_of(item_id)
            record["_state"] = "labelled" if is_labelled else "unlabelled"
            published = parse_datetime(record["seen_at"]) if record.get("seen_at") else None
            record["_published"] = published
            pool.append(record)

    unlabelled_train: list[int] = []
    margins, committee = [], []
    for start in range(0, len(pool), BATCH):
        chunk = pool[start:start + BATCH]
        docs = [{"title": r.get("title") or "", "text": r.get("summary") or "",
                 "published_at": r["_published"]} for r in chunk]
        decisions = tagger.decide(docs)
        phrases = rule_scores(labels, decisions.prepared) > 0
        for row, record in enumerate(chunk):
            day = record["_published"].date() if record["_published"] else None
            for column, anniversary in anniversaries:
                if day and anniversary.in_window(day) and phrases[row, column]:
                    counts[(anniversary.id, record["_side"], record["_state"])] += 1
        train_rows = [r for r, rec in enumerate(chunk)
                      if rec["_side"] == "train" and rec["_state"] == "unlabelled"]
        if not train_rows:
            continue
        unlabelled_train.extend(start + r for r in train_rows)
        margin = log_odds(decisions.combined[train_rows]) - log_odds(decisions.cut[train_rows])
        margins.append(margin)
        if decisions.nearest is not None and tagger.bundle is not None:
            votes = tagger.bundle.neighbours.vote(*decisions.nearest)[train_rows, :, 0]
            committee.append(np.where(margin >= 0, 0.0, votes).max(axis=1))

    print("Items inside an anniversary's window that carry one of its phrases:")
    print(f"  {'anniversary':28} {'train labelled':>15} {'unlabelled':>11} "
          f"{'test labelled':>14} {'unlabelled':>11}")
    for _, anniversary in anniversaries:
        row = [counts[(anniversary.id, side, state)]
               for side in ("train", "test") for state in ("labelled", "unlabelled")]
        print(f"  {anniversary.id:28} {row[0]:>15,} {row[1]:>11,} {row[2]:>14,} {row[3]:>11,}")
    margin = np.vstack(margins) if margins else np.zeros((0, len(labels)))
    distance = np.abs(margin).min(axis=1)
    print(f"Unlabelled training-side items (reposts left out): {len(unlabelled_train):,}")
    print(f"  tagged by the model: {int((margin >= 0).any(axis=1).sum()):,}")
    for limit in (1.0, 2.0, 3.0):
        print(f"  within {limit:.0f} log-odds of a threshold: {int((distance < limit).sum()):,}")
    if committee:
        share = np.concatenate(committee)
        for limit in (0.3, 0.5):
            print(f"  precedents' vote share >= {limit} for a label the model does not give: "
                  f"{int((share >= limit).sum()):,}")


if __name__ == "__main__":
    main()
