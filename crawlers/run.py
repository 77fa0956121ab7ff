"""One crawl pass in this process: choose the sources, run Scrapy, record each source's health.

Scrapy's reactor cannot be restarted in a process, so a long-running caller
(the scheduler, the tests) runs each pass as ``python -m dophu.cli ... crawl``.
Source states are written after Scrapy has stopped and the last batches are in
the store: a killed pass changes no state, and the next one reads its feeds in
full again (the ledger keeps it from fetching stored pages twice).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from dophu.config import Source
from dophu.context import Context
from dophu.settings import CrawlSettings
from dophu.tag_worker import TaggingWorker
from dophu.tagging import load_tagger

log = logging.getLogger(__name__)


class CrawlInputError(ValueError):
    """A bad --source or --shard: the message names it."""


class CrawlBusyError(RuntimeError):
    """Another pass over the same sources is still running on this data dir."""


@contextmanager
def pass_lock(data_dir: Path, shard: Shard | None) -> Iterator[None]:
    """One pass at a time per data dir (and shard): a scheduler that starts the next pass
    while the last one still runs gets a clear error instead of a second crawler."""
    data_dir.mkdir(parents=True, exist_ok=True)
    name = "crawl.lock" if shard is None else f"crawl-shard-{shard.index}-of-{shard.count}.lock"
    with (data_dir / name).open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise CrawlBusyError(f"another crawl pass is running on {data_dir} "
                                 f"({name})") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """"i/N" with 0 <= i < N."""
        try:
            left, right = text.split("/", 1)
            shard = cls(int(left), int(right))
        except ValueError:
            raise CrawlInputError(f"--shard: expected i/N (e.g. 0/4), got {text!r}") from None
        if shard.count < 1 or not 0 <= shard.index < shard.count:
            raise CrawlInputError(f"--shard: need 0 <= i < N, got {text!r}")
        return shard

    def holds(self, source_id: str) -> bool:
        """Stable across processes and machines (not Python's salted hash)."""
        digest = int(hashlib.sha1(source_id.encode("utf-8")).hexdigest()[:12], 16)
        return digest % self.count == self.index


def select_sources(context: Context, source_ids: list[str] | None = None,
                   all_sources: bool = False, shard: Shard | None = None,
                   now: datetime | None = None) -> list[Source]:
    """Named sources; else every enabled crawlable one that is due (or all with --all)."""
    now = now or datetime.now(UTC)
    if source_ids:
        known = {s.id: s for s in context.sources}
        unknown = [i for i in source_ids if i not in known]
        if unknown:
            raise CrawlInputError(f"--source: unknown source id(s): {', '.join(unknown)} "
                                  "(see 'dophu sources list')")
        chosen = [known[i] for i in dict.fromkeys(source_ids)]
        not_crawlable = [s.id for s in chosen if not s.crawlable]
        if not_crawlable:
            raise CrawlInputError(f"--source: {', '.join(not_crawlable)} has no home, feeds, "
                                  "sitemaps or listings to crawl")
    else:
        states = context.store.list_source_states()
        chosen = []
        for source in context.sources:
            if not source.enabled or not source.crawlable:
                continue
            state = states.get(source.id)
            due = all_sources or state is None or state.next_due is None or (
                state.next_due <= now)
            if due:
                chosen.append(source)
    if shard is not None:
        chosen = [s for s in chosen if shard.holds(s.id)]
    return chosen


def crawl_settings(context: Context, overrides: dict[str, Any] | None = None
                   ) -> CrawlSettings:
    base = context.settings.crawl
    if not overrides:
        return base
    return CrawlSettings.model_validate({**base.model_dump(), **overrides})


def run_crawl(context: Context, source_ids: list[str] | None = None, all_sources: bool = False,
              shard: Shard | str | None = None, overrides: dict[str, Any] | None = None
              ) -> dict[str, Any]:
    """Crawl once; returns ``{"sources": [{"id","fetched","new","updated","errors",...}],
    "new": N, ...}``."""
    if isinstance(shard, str):
        shard = Shard.parse(shard)
    settings = crawl_settings(context, overrides)
    sources = select_sources(context, source_ids, all_sources, shard)
    started = datetime.now(UTC)
    if not sources:
        return {"sources": [], "new": 0, "updated": 0, "errors": 0, "fetched": 0,
                "started_at": started.isoformat(), "finished_at": started.isoformat(),
                "finish_reason": "nothing due"}
    # Forked before Scrapy is imported (no reactor, no threads yet) and before the pass lock
    # is taken (a child must not hold it): the child loads the model while this process
    # starts the crawl.
    tagging = (TaggingWorker(loader=partial(load_tagger, context))
               if settings.tag_in_child_process and TaggingWorker.available() else None)
    try:
        with pass_lock(Path(context.data_dir), shard):
            from scrapy.crawler import CrawlerProcess

            from crawlers.settings import scrapy_settings
            from crawlers.spiders.source_spider import SourceSpider

            process = CrawlerProcess(scrapy_settings(settings))
            crawler = process.create_crawler(SourceSpider)
            process.crawl(crawler, context=context, sources=sources, crawl_settings=settings,
                          tagging=tagging)
            process.start()
            spider: SourceSpider = crawler.spider  # type: ignore[assignment]
            return record_pass(context, spider, started)
    finally:
        if tagging is not None:
            tagging.close()


def record_pass(context: Context, spider: Any, started: datetime) -> dict[str, Any]:
    """Write each source's new state; the pass summary."""
    from crawlers.state import finish_state

    finished = datetime.now(UTC)
    reason = spider.close_reason or "finished"
    complete = reason == "finished"
    rows = []
    for run in spider.book.values():
        context.store.put_source_state(finish_state(run, finished, complete=complete))
        rows.append(run.summary())
    spider.ledger.close()
    return {"sources": rows, "new": sum(r["new"] for r in rows),
            "updated": sum(r["updated"] for r in rows),
            "errors": sum(r["errors"] for r in rows),
            "fetched": sum(r["fetched"] for r in rows),
            "started_at": started.isoformat(), "finished_at": finished.isoformat(),
            "finish_reason": reason}
