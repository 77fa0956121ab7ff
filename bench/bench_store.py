"""Import + store and search on the 153,825 real items of the shared corpus.

Run: ``.venv/bin/python -m bench --only import,search`` (or this module alone:
``.venv/bin/python -m bench.bench_store [--limit N] [--keep DIR]``).

Import goes through the real path (``dophu.importer.import_file`` with the tagger
of ``dophu.tagging.load_tagger``: build the item, normalise, dedup, tag, upsert);
the baseline in the same run is a bare SQLite ``executemany`` of the same rows
(already parsed, untagged, no full-text index). Search runs 200 queries (with and
without diacritics, phrases, filters, filter-only listings) and reports p50/p95.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import Clock, Row, news_rows, percentile, store_size_mb
from bench.workspace import Workspace
from dophu.context import Context
from dophu.importer import import_file
from dophu.tagging import load_tagger
from store.base import SearchQuery, Store
from store.sqlite import SQLiteStore

QUERY_WORDS = [
    "Đại hội Đảng", "dai hoi dang", "quốc khánh", "quoc khanh 2/9", "kỷ niệm 80 năm",
    "ky niem 80 nam", "Tổng Bí thư", "tong bi thu to lam", "giải phóng miền Nam",
    "tăng trưởng GDP", "tang truong", "bão", "xổ số", "bóng đá", "an sinh xã hội",
    "xoa nha tam", "đổi mới", "kỷ nguyên vươn mình", "ky nguyen moi", "bầu cử",
    "Quốc hội", "giá vàng", "tai nạn giao thông", "Cần Thơ", "TP.HCM", "Hà Nội",
    "diễu binh", "A80", "thi đua yêu nước", "đối ngoại",
]
PHRASES = ['"đại hội đảng bộ"', '"quoc khanh"', '"kỷ niệm 80 năm"', '"tong bi thu"',
           '"giai phong mien nam"', '"an sinh xa hoi"', '"tăng trưởng kinh tế"']
CORPUS_SOURCES = ("vnexpress", "thanhnien", "tuoitre")
CORPUS_MONTHS = tuple((2025, m) for m in range(9, 13))
UNTAGGED_SAMPLE = 20_000
SEARCH_TARGET_MS = 100.0
IMPORT_TARGET = 2000.0


def build_queries(n: int = 200, seed: int = 7, sources: Sequence[str] = CORPUS_SOURCES,
                  months: Sequence[tuple[int, int]] = CORPUS_MONTHS) -> list[SearchQuery]:
    """The same mix every run: words and phrases, a source or a month filter on some,
    date order on some, and one in ten a filter-only listing (the web page's first view)."""
    rng = random.Random(seed)
    queries: list[SearchQuery] = []
    for i in range(n):
        text = rng.choice(QUERY_WORDS + PHRASES)
        kwargs: dict[str, Any] = {"text": text, "size": 20}
        if i % 4 == 1:
            kwargs["sources"] = [rng.choice(list(sources))]
        if i % 4 == 2:
            year, month = rng.choice(list(months))
            kwargs["date_from"] = f"{year}-{month:02d}-01"
            kwargs["date_to"] = f"{year}-{month:02d}-28"
        if i % 5 == 3:
            kwargs["sort"] = "date"
        if i % 10 == 9:
            kwargs.pop("text")
        queries.append(SearchQuery(**kwargs))
    return queries


def baseline_insert(rows: list[dict[str, Any]], path: Path) -> float:
    """Seconds for a bare ``executemany`` of the same rows into a plain table."""
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE items (id TEXT PRIMARY KEY, url TEXT, source TEXT, title TEXT, "
                 "text TEXT, published_at TEXT)")
    start = time.perf_counter()
    with conn:
        conn.executemany("INSERT OR REPLACE INTO items VALUES (?,?,?,?,?,?)",
                         [(r["id"], r["url"], r["source"], r["title"], r["summary"],
                           r["seen_at"]) for r in rows])
    elapsed = time.perf_counter() - start
    conn.close()
    path.unlink(missing_ok=True)
    return elapsed


def _fresh_store(path: Path) -> SQLiteStore:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return SQLiteStore(path)


def import_corpus(ws: Workspace) -> list[Row]:
    """Imports the corpus into the workspace's store (the import row) and, for scale, the
    first 20,000 items once more without a tagger (how much of the time is tagging)."""
    rows = list(news_rows(ws.corpus_limit))
    corpus = ws.root / "news.jsonl"
    corpus.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                      encoding="utf-8")
    context = Context(config_dir=ws.config_dir, data_dir=ws.corpus_data_dir)
    tagger = load_tagger(context)
    store = _fresh_store(ws.corpus_store_path)
    with Clock() as clock:
        # as `dophu import` does for a file this size: tagging in a child process
        report = import_file(corpus, store, ws.sources, tagger=tagger, parallel=True)
    store.close()
    rate = report.read / clock.wall
    base_rate = len(rows) / baseline_insert(rows, ws.root / "baseline.sqlite3")

    sample = ws.root / "sample.jsonl"
    with corpus.open(encoding="utf-8") as handle:
        sample.write_text("".join(line for _, line in zip(range(UNTAGGED_SAMPLE), handle,
                                                            strict=False)), encoding="utf-8")
    sample_rates = {}
    for name, sample_tagger in (("untagged", None), ("tagged", tagger)):
        scratch = _fresh_store(ws.root / f"sample-{name}.sqlite3")
        with Clock() as sample_clock:
            sample_report = import_file(sample, scratch, ws.sources, tagger=sample_tagger)
        scratch.close()
        sample_rates[name] = round(sample_report.read / sample_clock.wall)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{ws.root / f'sample-{name}.sqlite3'}{suffix}").unlink(missing_ok=True)
    return [Row(
        "import + store", f"{len(rows):,} real items, tagged "
        f"({'tagger: ' + type(tagger).__name__ if tagger else 'NO tagger found'}, in a child "
        "process as dophu import does for large files)",
        round(rate), "items/s", round(base_rate), "bare SQLite executemany",
        f"≥ {IMPORT_TARGET:,.0f} items/s", rate >= IMPORT_TARGET,
        {"seconds": round(clock.wall, 1), "cpu_seconds_of_this_process": round(clock.cpu, 1),
         "new": report.new, "rejected": len(report.rejected),
         f"first_{UNTAGGED_SAMPLE}_items_per_s": sample_rates,
         "store_mb": round(store_size_mb(ws.corpus_store_path), 1)},
        command="python -m bench --only import")]


def search_latencies(store: Store, queries: Sequence[SearchQuery], warm: int = 10
                     ) -> list[float]:
    """Milliseconds per query, after ``warm`` queries that warm the page cache (a running
    service has it warm)."""
    for query in queries[:warm]:
        store.search(query)
    latencies = []
    for query in queries:
        start = time.perf_counter()
        store.search(query)
        latencies.append((time.perf_counter() - start) * 1000)
    return latencies


def search_summary(latencies: Sequence[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(latencies, 50), 1),
            "p95_ms": round(percentile(latencies, 95), 1),
            "max_ms": round(max(latencies), 1)}


def slowest(store: Store, queries: Sequence[SearchQuery], latencies: Sequence[float],
            n: int = 3) -> list[dict[str, Any]]:
    """The slowest queries, to say what to look at when p95 is high."""
    ranked = sorted(zip(latencies, queries, strict=True), key=lambda p: -p[0])[:n]
    return [{"ms": round(ms, 1), "query": q.model_dump(exclude_defaults=True, mode="json")}
            for ms, q in ranked]


def search_corpus(ws: Workspace) -> list[Row]:
    path = ws.corpus_store()
    store = SQLiteStore(path)
    queries = build_queries()
    latencies = search_latencies(store, queries)
    summary = search_summary(latencies)
    count = store.count()
    extra = {**summary, "slowest": slowest(store, queries, latencies)}
    store.close()
    return [Row("search", f"{len(queries)} queries on the {count:,}-item store",
                summary["p95_ms"], "ms p95", None, "", f"p95 ≤ {SEARCH_TARGET_MS:.0f} ms",
                summary["p95_ms"] <= SEARCH_TARGET_MS, extra,
                command="python -m bench --only search")]


def run(limit: int | None = None, keep: Path | None = None) -> list[Row]:
    ws = Workspace.create(keep, quick=False)
    ws.corpus_limit = limit
    try:
        ws.corpus_store()
        return [*ws.import_rows, *search_corpus(ws)]
    finally:
        ws.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    for row in run(args.limit, args.keep):
        print(json.dumps(row.as_dict(), ensure_ascii=False))


if __name__ == "__main__":
    main()
