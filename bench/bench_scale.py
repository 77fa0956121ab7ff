"""A synthetic 1,000,000-item store: search p95, weekly report time, size on disk, and how
search and report time grow with the store (10k, 100k, 1M).

Run: ``.venv/bin/python -m bench --only scale`` (``--quick``: 10k and 50k).

Rows come from the 153k real store built by the import stage, tags included
(what the real tagger said about the real texts). Each real item is copied up to
seven times, each copy with a new URL and id, one of ~50 synthetic sources (two per
unit of the plan, of the unit's kind) and its date moved back 0 or 52 weeks and
jittered by up to 3.5 days, so the store spans two years and keeps the real
busy weeks. The copies go in shuffled, through ``SQLiteStore.upsert``, so every
prefix is a fair sample: the measurements at 10k and 100k are taken on the way to
1M, on the same store.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from bench.bench_report import busiest_week, time_weekly
from bench.bench_store import build_queries, search_latencies, search_summary, slowest
from bench.common import Clock, Curve, Results, Row, store_size_mb
from bench.workspace import Workspace
from dophu.config import Plan, Source
from dophu.models import Item, item_id_for_url
from store import STORE_FILENAME
from store.sqlite import SQLiteStore

FULL_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (10_000, 50_000)
SEARCH_TARGET_MS = 300.0
REPORT_TARGET_S = 10.0
SOURCES_PER_UNIT = 2
KIND_OF_GROUP = {"press": "newspaper", "broadcaster": "broadcaster", "reference": "newspaper",
                 "front": "organization", "mass-organization": "organization"}
SCALE_MONTHS = tuple((year, month) for year in (2024, 2025) for month in range(9, 13))


def synthetic_sources(plan: Plan) -> list[Source]:
    """Two sources per unit of the plan, of the kind such a unit publishes on."""
    sources = []
    for unit in plan.units:
        kind = KIND_OF_GROUP.get(str(unit.group), "portal")
        for n in range(1, SOURCES_PER_UNIT + 1):
            source_id = f"{unit.id}-{n}"
            sources.append(Source(id=source_id, name=f"{unit.name} ({n})", unit=unit.id,
                                  kind=kind, home=f"https://{source_id}.bench.invalid/"))
    return sources


def synthetic_items(originals: list[Item], sources: list[Source], total: int,
                    seed: int = 11) -> Iterator[Item]:
    """``total`` shuffled copies of the originals, moved to other sources and dates."""
    rng = random.Random(seed)
    copies = -(-total // len(originals))
    order = [(i, c) for c in range(copies) for i in range(len(originals))]
    rng.shuffle(order)
    for index, copy in order[:total]:
        item = originals[index]
        source = sources[rng.randrange(len(sources))]
        url = f"https://{source.id}.bench.invalid/{item.id}-{copy}"
        shift = timedelta(weeks=52 * (copy % 2), seconds=rng.uniform(-3.5, 3.5) * 86400)
        published = item.published_at - shift if item.published_at else None
        yield item.model_copy(update={
            "id": item_id_for_url(url), "url": url, "source": source.id, "unit": source.unit,
            "kind": source.kind, "published_at": published,
            "fetched_at": published + timedelta(hours=1) if published else item.fetched_at,
            "meta": {"synthetic_of": item.id}})


def _checkpoint(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def run_scale(ws: Workspace, results: Results) -> list[Row]:
    sizes = QUICK_SIZES if ws.quick else FULL_SIZES
    corpus = SQLiteStore(ws.corpus_store(), readonly=True)
    originals = list(corpus.iter_items(batch_size=5000))
    corpus.close()
    sources = synthetic_sources(ws.plan)
    path = ws.root / "scale" / STORE_FILENAME
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = SQLiteStore(path)
    queries = build_queries(sources=[s.id for s in sources], months=SCALE_MONTHS)
    points: list[dict] = []
    stream = synthetic_items(originals, sources, sizes[-1])
    inserted, build_seconds = 0, 0.0
    for size in sizes:
        batch: list[Item] = []
        with Clock() as clock:
            for item in stream:
                batch.append(item)
                inserted += 1
                if len(batch) >= 5000 or inserted >= size:
                    store.upsert(batch)
                    batch = []
                if inserted >= size:
                    break
        build_seconds += clock.wall
        _checkpoint(path)
        latencies = search_latencies(store, queries)
        week, week_items = busiest_week(store)
        report = time_weekly(store, ws.plan, sources, week)
        points.append({"items": store.count(), **search_summary(latencies),
                       "slowest": slowest(store, queries, latencies),
                       "report_s": report["median_s"], "report_first_s": report["first_s"],
                       "week": week, "week_items": week_items,
                       "store_mb": round(store_size_mb(path), 1)})
        print(f"  scale: {points[-1]['items']:,} items, search p95 {points[-1]['p95_ms']} ms, "
              f"report {report['median_s']} s, {points[-1]['store_mb']} MB", flush=True)
    store.close()
    for name, key, unit in (("search p95 against store size", "p95_ms", "ms"),
                            ("search p50 against store size", "p50_ms", "ms"),
                            ("weekly report against store size", "report_s", "s")):
        results.curves.append(Curve(name, "items", unit,
                                    [(p["items"], p[key]) for p in points]))
    last = points[-1]
    workload = (f"synthetic {last['items']:,}-item store, {len(sources)} sources, 2 years "
                f"(built at {inserted / build_seconds:,.0f} items/s)")
    command = "python -m bench --only scale"
    extra = {"points": points, "build_items_per_s": round(inserted / build_seconds)}
    return [
        Row("scale: search", workload, last["p95_ms"], "ms p95", None, "",
            f"p95 ≤ {SEARCH_TARGET_MS:.0f} ms", last["p95_ms"] <= SEARCH_TARGET_MS,
            {"p50_ms": last["p50_ms"], "slowest": last["slowest"]}, command=command),
        Row("scale: weekly report", f"busiest week {last['week']} "
            f"({last['week_items']:,} items) of the synthetic store", last["report_s"], "s",
            None, "", f"≤ {REPORT_TARGET_S:g} s", last["report_s"] <= REPORT_TARGET_S,
            {"first_s": last["report_first_s"]}, command=command),
        Row("scale: store on disk", f"synthetic {last['items']:,}-item store",
            last["store_mb"], "MB", None, "", "", None, extra, command=command),
    ]
