"""Tagging in a forked child process, so that a bulk import uses both cores.

While the parent reads, builds, deduplicates and stores one batch of items,
the child tags the next. The child is forked from the parent after the
tagger is built, so it inherits the loaded model (no second load, nothing
pickled but the items and their tags). Where ``fork`` is not available, or
the child dies, tagging goes on in the parent: slower, never lost.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from dophu.metrics import TAGGING_SECONDS, TimedTagger
from dophu.models import Item, Tag

log = logging.getLogger(__name__)

TagsOf = tuple[bool | None, list[Tag], list[Tag]]

# The tagger of this (child) process, set once by the pool's initializer.
_worker_tagger: Any = None


def _install(tagger: Any) -> None:
    global _worker_tagger
    _worker_tagger = tagger


def tag_all(tagger: Any, items: list[Item]) -> list[Item]:
    """``items`` tagged: in one batch when the tagger can (``tag_items``), else one by one."""
    batch = getattr(tagger, "tag_items", None)
    return list(batch(items)) if batch else [tagger.tag_item(item) for item in items]


def _tag_batch(tagger: Any, items: list[Item]) -> list[TagsOf]:
    return [(t.relevant, list(t.themes), list(t.anniversaries)) for t in tag_all(tagger, items)]


def _in_worker(items: list[Item]) -> tuple[list[TagsOf], float]:
    started = time.perf_counter()
    tags = _tag_batch(_worker_tagger, items)
    return tags, time.perf_counter() - started


def apply_tags(items: list[Item], tags: list[TagsOf]) -> list[Item]:
    return [item.model_copy(update={"relevant": relevant, "themes": themes,
                                    "anniversaries": anniversaries})
            for item, (relevant, themes, anniversaries) in zip(items, tags, strict=True)]


class TaggingWorker:
    """One child process that tags batches in order; ``result`` falls back to the parent."""

    def __init__(self, tagger: Any):
        # Time is observed here, per batch, so the child needs the bare tagger.
        self.tagger = tagger.wrapped if isinstance(tagger, TimedTagger) else tagger
        self._pool: ProcessPoolExecutor | None = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("fork"),
            initializer=_install, initargs=(self.tagger,))

    @staticmethod
    def available() -> bool:
        return "fork" in multiprocessing.get_all_start_methods()

    def submit(self, items: list[Item]) -> Future | None:
        if self._pool is None:
            return None
        try:
            return self._pool.submit(_in_worker, items)
        except (BrokenProcessPool, RuntimeError) as exc:
            self._give_up(exc)
            return None

    def result(self, future: Future | None, items: list[Item]) -> list[Item]:
        """The tagged items of a submitted batch (tagged here if the child could not)."""
        started = time.perf_counter()
        tags: list[TagsOf] | None = None
        if future is not None:
            try:
                tags, seconds = future.result()
            except BrokenProcessPool as exc:
                self._give_up(exc)
        if tags is None:
            tags = _tag_batch(self.tagger, items)
            seconds = time.perf_counter() - started
        if items:
            share = seconds / len(items)
            for _ in items:
                TAGGING_SECONDS.observe(share)
        return apply_tags(items, tags)

    def _give_up(self, exc: BaseException) -> None:
        log.warning("the tagging process stopped (%s); tagging goes on in this process", exc)
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
