"""The stages an item goes through after it is built: dedup, tag, store.

Crawled and imported items take the same path, so an item means the same
thing whichever door it came through. Each stage is a small object with one
method; the crawler's Scrapy item pipelines wrap the same objects.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future
from typing import Protocol

from dophu.models import Item
from dophu.tag_worker import TaggingWorker, tag_all
from store import Store, UpsertResult


class ItemTagger(Protocol):
    def tag_item(self, item: Item) -> Item: ...


class ExactDedup:
    """Marks an item ``duplicate_of`` the first stored item with the same content."""

    def __init__(self, store: Store):
        self.store = store
        self._seen: dict[str, str] = {}

    def __call__(self, item: Item) -> Item:
        if item.duplicate_of or not item.content_hash or not (item.title or item.text):
            return item
        first = self._seen.get(item.content_hash)
        if first is None:
            stored = [i for i in self.store.find_by_content_hash(item.content_hash)
                      if i != item.id]
            first = stored[0] if stored else None
        if first is None or first == item.id:
            self._seen.setdefault(item.content_hash, item.id)
            return item
        return item.model_copy(update={"duplicate_of": first})


class StoreWriter:
    """Upserts in batches; a crash loses at most the batch in flight."""

    def __init__(self, store: Store, batch_size: int = 500):
        self.store = store
        self.batch_size = batch_size
        self.result = UpsertResult()
        self._batch: list[Item] = []

    def add(self, item: Item) -> None:
        self._batch.append(item)
        if len(self._batch) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if not self._batch:
            return
        done = self.store.upsert(self._batch)
        self.result.new += done.new
        self.result.updated += done.updated
        self.result.unchanged += done.unchanged
        self._batch = []


class ItemPipeline:
    """dedup → tag → store, for items already built (and so normalised).

    Items are tagged in batches (``tag_items`` when the tagger has it): the
    classifier vectorises a batch at once, several times faster than one by one.
    With ``parallel``, a forked child tags one batch while this process builds
    and stores the next (``dophu.tag_worker``): a crash then loses at most the
    two batches in flight.
    """

    def __init__(self, store: Store, tagger: ItemTagger | None = None, batch_size: int = 500,
                 parallel: bool = False):
        self.dedup = ExactDedup(store)
        self.tagger = tagger
        self.batch_size = batch_size
        self.writer = StoreWriter(store, batch_size)
        self._pending: list[Item] = []
        self._worker: TaggingWorker | None = None
        self._in_flight: deque[tuple[Future | None, list[Item]]] = deque()
        if parallel and tagger is not None and TaggingWorker.available():
            self._worker = TaggingWorker(tagger)

    def process(self, item: Item) -> None:
        self._pending.append(self.dedup(item))
        if len(self._pending) >= self.batch_size:
            self._flush()

    def _tag(self, items: list[Item]) -> list[Item]:
        return tag_all(self.tagger, items)

    def _store(self, items: list[Item]) -> None:
        for item in items:
            self.writer.add(item)
        self.writer.flush()

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        if self._worker is None:
            self._store(self._tag(batch))
            return
        self._in_flight.append((self._worker.submit(batch), batch))
        while len(self._in_flight) > 1:     # the child tags this batch while we store the last
            self._drain_one()

    def _drain_one(self) -> None:
        assert self._worker is not None
        future, batch = self._in_flight.popleft()
        self._store(self._worker.result(future, batch))

    def run(self, items: Iterable[Item]) -> UpsertResult:
        for item in items:
            self.process(item)
        return self.close()

    def close(self) -> UpsertResult:
        try:
            self._flush()
            while self._in_flight:
                self._drain_one()
        finally:
            if self._worker is not None:
                self._worker.close()
        return self.writer.result
