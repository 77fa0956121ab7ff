"""Tagging in a forked child process, so that both cores work.

Import: while the parent reads, builds, deduplicates and stores one batch of
items, the child tags the next. The child is forked after the tagger is built,
so it inherits the loaded model (no second load, nothing pickled but the items
and their tags). Crawl: the child is forked before Scrapy starts and builds
the tagger itself (``loader``), so loading the model (about a second) overlaps
the crawler's own start-up instead of stalling its first item. Where ``fork``
is not available, or the child dies, tagging goes on in the parent: slower,
never lost.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from dophu.metrics import TAGGING_SECONDS, TimedTagger
from dophu.models import Item, Tag

log = logging.getLogger(__name__)

TagsOf = tuple[bool | None, list[Tag], list[Tag]]

# The tagger of this (child) process, set once by the pool's initializer.
_worker_tagger: Any = None


def _exit_with(parent: int) -> None:
    """A killed parent (kill -9) cannot stop its pool: the child then ends by itself
    within half a second instead of living on as an orphan."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="dophu-parent-watch", daemon=True).start()


def _install(tagger: Any, parent: int) -> None:
    """Initializer of a child that inherited the built tagger."""
    global _worker_tagger
    _exit_with(parent)
    _worker_tagger = tagger


def _load(loader: Callable[[], Any], parent: int) -> None:
    """Initializer of a child that builds the tagger itself (watching its parent meanwhile)."""
    global _worker_tagger
    _exit_with(parent)
    _worker_tagger = _bare(loader())


def _bare(tagger: Any) -> Any:
    # Time is observed in the parent, per batch, so the child needs the bare tagger.
    return tagger.wrapped if isinstance(tagger, TimedTagger) else tagger


def _ready() -> bool:
    return _worker_tagger is not None


def tag_all(tagger: Any, items: list[Item]) -> list[Item]:
    """``items`` tagged: in one batch when the tagger can (``tag_items``), else one by one;
    unchanged when there is no tagger (no classifier installed)."""
    if tagger is None:
        return list(items)
    batch = getattr(tagger, "tag_items", None)
    return list(batch(items)) if batch else [tagger.tag_item(item) for item in items]


def _tag_batch(tagger: Any, items: list[Item]) -> list[TagsOf] | None:
    """The tags of ``items``; None when there is no tagger (items stay untagged)."""
    if tagger is None:
        return None
    return [(t.relevant, list(t.themes), list(t.anniversaries)) for t in tag_all(tagger, items)]


def _in_worker(items: list[Item]) -> tuple[list[TagsOf] | None, float]:
    started = time.perf_counter()
    tags = _tag_batch(_worker_tagger, items)
    return tags, time.perf_counter() - started


def apply_tags(items: list[Item], tags: list[TagsOf]) -> list[Item]:
    return [item.model_copy(update={"relevant": relevant, "themes": themes,
                                    "anniversaries": anniversaries})
            for item, (relevant, themes, anniversaries) in zip(items, tags, strict=True)]


class TaggingWorker:
    """One child process that tags batches in order; ``result`` falls back to the parent.

    Give it the built ``tagger`` (the child inherits it) or a ``loader`` that builds
    one (the child calls it as soon as it starts; the parent calls it only if the
    child dies). The child is forked here, not at the first batch.
    """

    def __init__(self, tagger: Any = None, *, loader: Callable[[], Any] | None = None):
        if (tagger is None) == (loader is None):
            raise ValueError("TaggingWorker needs a tagger or a loader, not both")
        self.tagger = _bare(tagger) if tagger is not None else None
        self._loader = loader
        initializer, initargs = (_install, (self.tagger, os.getpid())) if loader is None else (
            _load, (loader, os.getpid()))
        self._pool: ProcessPoolExecutor | None = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("fork"),
            initializer=initializer, initargs=initargs)
        self.started = self.submit_call(_ready)      # forks the child now

    @staticmethod
    def available() -> bool:
        return "fork" in multiprocessing.get_all_start_methods()

    def submit_call(self, function: Callable[..., Any], *args: Any) -> Future | None:
        if self._pool is None:
            return None
        try:
            return self._pool.submit(function, *args)
        except (BrokenProcessPool, RuntimeError) as exc:
            self._give_up(exc)
            return None

    def submit(self, items: list[Item]) -> Future | None:
        return self.submit_call(_in_worker, items)

    def _parent_tagger(self) -> Any:
        if self.tagger is None and self._loader is not None:
            self.tagger, self._loader = _bare(self._loader()), None
        return self.tagger

    def result(self, future: Future | None, items: list[Item]) -> list[Item]:
        """The tagged items of a submitted batch (tagged here if the child could not)."""
        started = time.perf_counter()
        tags: list[TagsOf] | None = None
        done = False
        if future is not None:
            try:
                tags, seconds = future.result()
                done = True
            except BrokenProcessPool as exc:
                self._give_up(exc)
        if not done:
            tags = _tag_batch(self._parent_tagger(), items)
            seconds = time.perf_counter() - started
        if tags is None:
            return items
        if items:
            share = seconds / len(items)
            for _ in items:
                TAGGING_SECONDS.observe(share)
        return apply_tags(items, tags)

    def tag(self, items: list[Item]) -> list[Item]:
        """``items`` tagged by the child, waiting for it."""
        return self.result(self.submit(items), items)

    def _give_up(self, exc: BaseException) -> None:
        log.warning("the tagging process stopped (%s); tagging goes on in this process", exc)
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
