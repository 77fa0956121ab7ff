"""Scrapy item pipelines wrapping the shared stages: exact dedup → near dedup → tag + store.

The spider yields ``CrawledItem`` (a built, normalised ``Item`` and the page
URLs that produced it). The store pipeline keeps a batch per source and, when
it is full or the pass ends, tags it (the classifier vectorises a batch at once,
about 1.5× faster than item by item; see ``SourceSpider.tag_batch``) and writes
it; only after a batch is in the store are its pages remembered in the ledger
and its near-duplicate signatures kept, so a kill loses at most the batches in
flight and the next pass fetches exactly those pages again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crawlers import neardup
from dophu.models import Item
from dophu.pipeline import ExactDedup, StoreWriter

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from crawlers.spiders.source_spider import SourceSpider

log = logging.getLogger(__name__)


@dataclass
class CrawledItem:
    """What the spider hands to the pipelines."""

    item: Item
    page_urls: list[str] = field(default_factory=list)   # requested and final canonical URLs
    lastmod: datetime | None = None
    signature: Any = None                                 # MinHash, set by NearDedupPipeline
    original: bool = False                                # indexed as a near-dup original


class _SpiderPipeline:
    """Gives each pipeline the running spider (its context, ledger and health book)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> _SpiderPipeline:
        return cls(crawler)

    @property
    def spider(self) -> SourceSpider:
        return self.crawler.spider  # type: ignore[return-value]


class ExactDedupPipeline(_SpiderPipeline):
    """``duplicate_of`` the first stored item with the same content (``dophu.pipeline``)."""

    def open_spider(self, spider: Any = None) -> None:
        self.dedup = ExactDedup(self.spider.store)

    def process_item(self, crawled: CrawledItem, spider: Any = None) -> CrawledItem:
        crawled.item = self.dedup(crawled.item)
        return crawled


class NearDedupPipeline(_SpiderPipeline):
    """MinHash near-duplicates; the earlier-published story stays the original."""

    def open_spider(self, spider: Any = None) -> None:
        self.index = self.spider.neardup

    def process_item(self, crawled: CrawledItem, spider: Any = None) -> CrawledItem:
        item = crawled.item
        if item.duplicate_of:
            self.index.remove(item.id)
            return crawled
        minhash = neardup.signature(item.title, item.text)
        if minhash is None:
            return crawled
        published = item.published_at.timestamp() if item.published_at else None
        match = self.index.match(item.id, minhash, published)
        if match is not None and match.original != item.id:
            crawled.item = item.model_copy(update={
                "duplicate_of": match.original,
                "meta": {**item.meta, "near_duplicate": round(match.similarity, 3)}})
            self.index.remove(item.id)
            return crawled
        if match is not None and match.swapped_out:
            self.index.remove(match.swapped_out)
            self.spider.store_writer.demote(match.swapped_out, item.id, match.similarity)
        self.index.add(item.id, minhash, published)
        crawled.signature, crawled.original = minhash, True
        return crawled


class SourceBatches:
    """Items waiting for the store, per source, so each source's new/updated counts are its
    own; each flush tags the batch, then writes it through a ``StoreWriter``
    (``dophu.pipeline``)."""

    def __init__(self, spider: SourceSpider, batch_size: int):
        self.spider = spider
        self.batch_size = batch_size
        self.pending: dict[str, list[CrawledItem]] = {}

    def add(self, crawled: CrawledItem) -> None:
        source = crawled.item.source
        self.pending.setdefault(source, []).append(crawled)
        if len(self.pending[source]) >= self.batch_size:
            self.flush(source)

    def demote(self, item_id: str, original: str, similarity: float) -> None:
        """An indexed story turned out to be the later copy: mark it (and its copies)
        ``duplicate_of`` the earlier one, in a batch in flight or in the store."""
        def marked(item: Item) -> Item:
            return item.model_copy(update={
                "duplicate_of": original,
                "meta": {**item.meta, "near_duplicate": round(similarity, 3)}})

        for batch in self.pending.values():
            for crawled in batch:
                if crawled.item.id == item_id:
                    crawled.item, crawled.original = marked(crawled.item), False
                elif crawled.item.duplicate_of == item_id:
                    crawled.item = crawled.item.model_copy(update={"duplicate_of": original})
        store = self.spider.store
        stored = store.get(item_id)
        moved = [] if stored is None else [marked(stored)]
        for copy_id in store.duplicates_of(item_id):
            other = store.get(copy_id)
            if other is not None and other.id != original:
                moved.append(other.model_copy(update={"duplicate_of": original}))
        if moved:
            store.upsert(moved)
        self.spider.ledger.drop_signatures([item_id])

    def flush(self, source: str) -> None:
        batch = self.pending.pop(source, [])
        if not batch:
            return
        tagged = self.spider.tag_batch([crawled.item for crawled in batch])
        for crawled, item in zip(batch, tagged, strict=True):
            crawled.item = item
        writer = StoreWriter(self.spider.store, batch_size=len(batch) + 1)
        for crawled in batch:
            writer.add(crawled.item)
        writer.flush()
        run = self.spider.book.get(source)
        if run is not None:
            run.new += writer.result.new
            run.updated += writer.result.updated
            run.unchanged += writer.result.unchanged
        ledger = self.spider.ledger
        ledger.mark_items((url, source, c.item.id, c.lastmod)
                          for c in batch for url in dict.fromkeys(c.page_urls))
        ledger.put_signatures(
            (c.item.id, source, neardup.to_bytes(c.signature),
             c.item.published_at.timestamp() if c.item.published_at else None)
            for c in batch if c.original and c.signature is not None)

    def flush_all(self) -> None:
        for source in list(self.pending):
            self.flush(source)


class StorePipeline(_SpiderPipeline):
    """Items tagged and stored in batches (``store_batch_size`` per source)."""

    def open_spider(self, spider: Any = None) -> None:
        self.batches = self.spider.store_writer

    def process_item(self, crawled: CrawledItem, spider: Any = None) -> CrawledItem:
        self.batches.add(crawled)
        return crawled

    def close_spider(self, spider: Any = None) -> None:
        self.batches.flush_all()
