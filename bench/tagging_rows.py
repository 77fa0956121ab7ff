"""Tagging rows for the table, wrapping ``bench/bench_tagging.py`` (the classifier
engineer's script, which prints its own detailed report), plus how tagging time
grows with the length of the text.

Run: ``.venv/bin/python -m bench --only tagging``. Rates are items per second of
this process's CPU time (``bench_tagging.rate``): on a shared 2-core machine the
wall-time rate also counts time other processes had the core.
"""

from __future__ import annotations

import contextlib
import io
import random
import time
from collections.abc import Callable
from typing import Any

from bench import bench_tagging
from bench.common import REPO, Curve, Results, Row
from bench.workspace import Workspace

SHORT_TARGET = bench_tagging.SHORT_TARGET
LONG_TARGET = bench_tagging.LONG_TARGET
BASELINE_RATIO_TARGET = 3.0
# words per text -> (texts for the tagger, texts for word_tokenize)
LENGTHS = {50: (1000, 200), 200: (400, 100), 800: (150, 30), 2000: (60, 12)}


def _measure(name: str, docs: list[dict[str, Any]], target: float, sample: int
             ) -> tuple[dict[str, Any], str]:
    """``bench_tagging.measure`` with its printout kept for results.json."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rates = bench_tagging.measure(name, docs, target, sample)
    return rates, out.getvalue()


def texts_of_length(words: int, count: int, seed: int = 5) -> list[dict[str, Any]]:
    """``count`` texts of exactly ``words`` words, joined from the labelled corpus's long
    items (the same pieces ``bench_tagging.long_articles`` uses)."""
    from classifier.corpus import load_corpus
    from dophu.config import find_plan_file, load_plan

    plan = load_plan(find_plan_file(REPO / "config"))
    pieces = [f"{i.title}. {i.text}".split() for i in load_corpus(plan).items
              if len(i.text.split()) >= 80]
    rng = random.Random(seed + words)
    docs = []
    for n in range(count):
        body: list[str] = []
        while len(body) < words:
            body.extend(rng.choice(pieces))
        docs.append({"id": f"len{words}-{n}", "title": " ".join(body[:12]),
                     "text": " ".join(body[12:words]),
                     "published_at": "2025-08-20T08:00:00+07:00"})
    return docs


def _cpu_ms_per_item(run: Callable[[], Any], count: int) -> float:
    started = time.process_time()
    run()
    return (time.process_time() - started) / count * 1000


def length_growth(results: Results, quick: bool) -> dict[str, Any]:
    from underthesea import word_tokenize

    from classifier.tagger import build_tagger
    from dophu.config import find_plan_file, load_plan

    tagger = build_tagger(load_plan(find_plan_file(REPO / "config")))
    word_tokenize("khởi động")
    tagger_curve = Curve("tagging time against text length", "words", "ms per item (CPU)")
    baseline_curve = Curve("word_tokenize time against text length", "words",
                           "ms per item (CPU)")
    for words, (count, sample) in LENGTHS.items():
        if quick:
            count, sample = max(10, count // 4), max(4, sample // 4)
        docs = texts_of_length(words, count)
        tagger.tag_many(docs[:5])
        tagger_curve.points.append((words, round(_cpu_ms_per_item(
            lambda d=docs: [tagger.tag(x) for x in d], len(docs)), 3)))
        baseline_curve.points.append((words, round(_cpu_ms_per_item(
            lambda d=docs[:sample]: [word_tokenize(f"{x['title']}\n{x['text']}") for x in d],
            sample), 3)))
    results.curves += [tagger_curve, baseline_curve]
    return {"tagger_ms": tagger_curve.points, "word_tokenize_ms": baseline_curve.points}


def run_tagging(ws: Workspace, results: Results) -> list[Row]:
    short_count, long_count = (2000, 200) if ws.quick else (20000, 2000)
    command = "python -m bench --only tagging"
    short, short_log = _measure("title + summary", bench_tagging.short_items(short_count),
                                SHORT_TARGET, min(short_count, 5000))
    long, long_log = _measure("full articles (500-800 words)",
                              bench_tagging.long_articles(long_count), LONG_TARGET,
                              min(long_count, 500))
    growth = length_growth(results, ws.quick)
    rows = []
    for label, rates, target, count, log, ratio_target in (
            ("tagging, short", short, SHORT_TARGET, short_count, short_log,
             BASELINE_RATIO_TARGET),
            ("tagging, long", long, LONG_TARGET, long_count, long_log, None)):
        # Batches are how `dophu tag`, `dophu import` and the item pipeline call the tagger;
        # one by one (the crawler's per-page call) is kept beside it in the results.
        figure = rates["batched"]
        ratio = figure / rates["word_tokenize"]
        met = figure >= target and (ratio_target is None or ratio >= ratio_target)
        target_text = f"≥ {target:,.0f} items/s" + (
            f" and ≥ {ratio_target:g}× the baseline" if ratio_target else "")
        workload = (f"{count:,} title+summary items of the shared corpus" if count == short_count
                    and label.endswith("short") else
                    f"{count:,} full articles of 500–800 words")
        rows.append(Row(label, workload + ", batches of 256 (tag_many, as dophu tag and "
                        f"import call it; one by one: {rates['one_by_one']:,.0f}/s), best of "
                        f"{bench_tagging.ROUNDS} rounds",
                        round(figure), "items/s (CPU)", round(rates["word_tokenize"]),
                        "underthesea word_tokenize", target_text, met,
                        {"one_by_one_items_per_s": round(rates["one_by_one"]),
                         "rounds_cpu_items_per_s": rates["rounds_cpu"], "log": log,
                         **({"growth": growth} if label.endswith("long") else {})},
                        command=command))
    return rows
