"""The extraction pipeline, page to stored item, against trafilatura alone on the same pages.

Run: ``.venv/bin/python -m bench --only pipeline``.

Pages: the real article pages of ``shared/data/html`` and every page of the
demo sites (home pages and all articles), served by ``demo.server.DemoSites``
on 127.0.0.1 and fetched once before timing. Ours, per page, exactly the
crawler's stages without the network: ``crawlers.encoding.decode_html`` →
``crawlers.extract.extract_page`` → ``crawlers.items.item_from_page`` →
``dophu.pipeline.ExactDedup`` → near-duplicates (``crawlers.neardup``) → the tagger
of ``dophu.tagging.load_tagger`` and ``dophu.pipeline.StoreWriter`` into a fresh
SQLite store, per batch of the crawl's ``store_batch_size`` (50) items, as the
crawler's store pipeline does. The crawl tags in a child process; here the
tagging runs in this process, so its time is counted in full. The baseline is
``trafilatura.bare_extraction(raw bytes, url,
with_metadata=True)``: text, title, date and author from the same bytes, which is
the least a crawler needs. Five rounds alternate ours and the baseline; each side's
best round of CPU time is its figure (both run in this one process, single-threaded;
on a shared machine noise only ever adds time, and CPU time is less exposed to it
than wall time, which is kept in the results too).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import trafilatura

from bench.common import HTML_DIR, Row
from bench.workspace import Workspace
from crawlers import neardup
from crawlers.encoding import decode_html
from crawlers.extract import extract_page
from crawlers.items import EntryHints, item_from_page
from dophu.config import Source
from dophu.context import Context
from dophu.models import Item
from dophu.pipeline import ExactDedup, ItemTagger, StoreWriter
from dophu.settings import CrawlSettings
from dophu.tag_worker import tag_all
from dophu.tagging import load_tagger
from store.sqlite import SQLiteStore

TIME_RATIO_TARGET = 1.5
_CANONICAL = re.compile(r"""<link[^>]+rel=["']canonical["'][^>]*href=["']([^"']+)""", re.I)
REAL_SOURCE = Source(id="bench-real-pages", name="Real pages (shared/data/html)",
                     unit="bao-chi-trung-uong", kind="newspaper")


@dataclass
class Page:
    url: str
    body: bytes
    content_type: str | None
    source: Source


def real_pages() -> list[Page]:
    pages = []
    for path in sorted(HTML_DIR.glob("*_article*.html")):
        body = path.read_bytes()
        found = _CANONICAL.search(body[:200_000].decode("utf-8", "replace"))
        url = found.group(1) if found else f"https://{path.stem.split('_')[0]}.vn/{path.stem}"
        pages.append(Page(url, body, None, REAL_SOURCE))
    return pages


def demo_pages() -> list[Page]:
    """Every demo page that answers 200: the four home pages and all articles."""
    from demo.manifest import articles
    from demo.server import DemoSites

    pages = []
    with DemoSites(slow_seconds=0) as demo, httpx.Client(timeout=10,
                                                         follow_redirects=True) as client:
        sources = {s["id"]: Source(**s) for s in demo.sources()}
        urls = [(sid, url) for sid, url in demo.urls.items()]
        urls += [(a.site, demo.url(a.site, a.path)) for a in articles()]
        for site_id, url in urls:
            response = client.get(url)
            if response.status_code == 200:
                pages.append(Page(str(response.url), response.content,
                                  response.headers.get("content-type"), sources[site_id]))
    return pages


@dataclass
class Phases:
    extract: float = 0.0
    build: float = 0.0
    dedup: float = 0.0
    tag: float = 0.0
    store: float = 0.0


def our_pipeline(pages: list[Page], tagger: ItemTagger | None, store_path: Path,
                 batch_size: int = CrawlSettings().store_batch_size
                 ) -> tuple[float, int, Phases, float]:
    """(CPU seconds, items stored, wall seconds per phase, wall seconds) for one pass into
    a fresh store; items are tagged and stored in batches of the crawl's
    ``store_batch_size``, as ``crawlers.pipelines.SourceBatches`` does."""
    store = SQLiteStore(store_path)
    phases = Phases()
    started, started_cpu = time.perf_counter(), time.process_time()
    dedup, index, writer = ExactDedup(store), neardup.NearDuplicateIndex(), StoreWriter(store)
    fetched_at = datetime.now(UTC)
    batch: list[Item] = []

    def flush() -> None:
        t0 = time.perf_counter()
        tagged = tag_all(tagger, batch)
        t1 = time.perf_counter()
        phases.tag += t1 - t0
        for item in tagged:
            writer.add(item)
        writer.flush()
        phases.store += time.perf_counter() - t1
        batch.clear()

    for page in pages:
        t0 = time.perf_counter()
        decoded = decode_html(page.body, page.content_type)
        facts = extract_page(decoded.text, page.url)
        t1 = time.perf_counter()
        phases.extract += t1 - t0
        if not facts.is_item:
            continue
        item = item_from_page(page.source, facts, EntryHints(), final_url=page.url,
                              requested_url=page.url, redirects=[], decoded=decoded,
                              via="bench", via_url=None, fetched_at=fetched_at)
        t2 = time.perf_counter()
        phases.build += t2 - t1
        item = dedup(item)
        if not item.duplicate_of:
            minhash = neardup.signature(item.title, item.text)
            if minhash is not None:
                published = item.published_at.timestamp() if item.published_at else None
                match = index.match(item.id, minhash, published)
                if match is not None and match.original != item.id:
                    item = item.model_copy(update={"duplicate_of": match.original})
                else:
                    index.add(item.id, minhash, published)
        phases.dedup += time.perf_counter() - t2
        batch.append(item)
        if len(batch) >= batch_size:
            flush()
    flush()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    stored = writer.result.new + writer.result.updated
    store.close()
    return cpu, stored, phases, elapsed


def trafilatura_alone(pages: list[Page]) -> tuple[float, int, float]:
    """(CPU seconds, documents found, wall seconds)."""
    started, started_cpu = time.perf_counter(), time.process_time()
    found = 0
    for page in pages:
        document = trafilatura.bare_extraction(page.body, url=page.url, with_metadata=True)
        found += document is not None
    return time.process_time() - started_cpu, found, time.perf_counter() - started


def run_pipeline(ws: Workspace) -> list[Row]:
    real, demo = real_pages(), demo_pages()
    pages = real + demo
    tagger = load_tagger(Context(config_dir=ws.config_dir, data_dir=ws.root / "pipeline"))
    rounds = 1 if ws.quick else 5
    ours: list[tuple[float, int, Phases, float]] = []
    theirs: list[tuple[float, int, float]] = []
    our_pipeline(pages[:5], tagger, ws.root / "pipeline" / "warm.sqlite3")
    trafilatura_alone(pages[:5])
    for n in range(rounds):
        ours.append(our_pipeline(pages, tagger, ws.root / "pipeline" / f"round-{n}.sqlite3"))
        theirs.append(trafilatura_alone(pages))
    best_ours = min(ours, key=lambda r: r[0])
    best_theirs = min(theirs, key=lambda r: r[0])
    rate, base_rate = len(pages) / best_ours[0], len(pages) / best_theirs[0]
    time_ratio = best_ours[0] / best_theirs[0]
    phases: dict[str, Any] = {k: round(v / len(pages) * 1000, 2)
                              for k, v in vars(best_ours[2]).items()}
    extra = {"pages": len(pages), "real_pages": len(real), "demo_pages": len(demo),
             "items_stored": best_ours[1], "rounds": rounds,
             "our_cpu_seconds": [round(r[0], 3) for r in ours],
             "trafilatura_cpu_seconds": [round(r[0], 3) for r in theirs],
             "our_wall_seconds": [round(r[3], 3) for r in ours],
             "trafilatura_wall_seconds": [round(r[2], 3) for r in theirs],
             "our_ms_per_page_by_phase": phases, "time_ratio": round(time_ratio, 2)}
    return [Row("extraction pipeline", f"{len(pages)} pages ({len(real)} real, {len(demo)} "
                "demo): decode + extract + normalise + dedup + tag + store",
                round(rate, 1), "pages/s", round(base_rate, 1),
                "trafilatura.bare_extraction alone", f"≤ {TIME_RATIO_TARGET}× trafilatura's time",
                time_ratio <= TIME_RATIO_TARGET, extra, ratio_of_time=True,
                command="python -m bench --only pipeline")]
