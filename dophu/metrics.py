"""The tagging-latency metric, observed wherever items are tagged (crawl, import, API).

It lives in the core package so that tagging does not depend on the web layer;
``api.metrics`` exposes it on ``/metrics`` with the HTTP metrics.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import Histogram

from dophu.models import Item

TAGGING_SECONDS = Histogram(
    "dophu_tagging_seconds", "Time to tag one item (rules + model), in seconds.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0))


@contextmanager
def observe_tagging() -> Iterator[None]:
    """Times the block into ``dophu_tagging_seconds``."""
    start = time.perf_counter()
    try:
        yield
    finally:
        TAGGING_SECONDS.observe(time.perf_counter() - start)


class TimedTagger:
    """Wraps any tagger (``tag_item(item) -> item``) so that each call is timed."""

    def __init__(self, tagger: Any):
        self.wrapped = tagger

    def tag_item(self, item: Item) -> Item:
        with observe_tagging():
            return self.wrapped.tag_item(item)

    def tag_items(self, items: list[Item]) -> list[Item]:
        """A batch, timed as a whole; each item is recorded at the batch's average."""
        start = time.perf_counter()
        batch = getattr(self.wrapped, "tag_items", None)
        tagged = list(batch(items)) if batch else [self.wrapped.tag_item(i) for i in items]
        if tagged:
            share = (time.perf_counter() - start) / len(tagged)
            for _ in tagged:
                TAGGING_SECONDS.observe(share)
        return tagged

    def __getattr__(self, name: str) -> Any:
        if name == "wrapped" or name.startswith("__"):    # copy/pickle before __init__
            raise AttributeError(name)
        return getattr(self.wrapped, name)
