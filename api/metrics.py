"""Prometheus metrics: tagging latency, HTTP requests, and gauges read from the store.

The tagging histogram lives here so that any code that tags (the crawler, the
importer, the API) can observe it with ``with observe_tagging(): ...`` or wrap
a tagger in :class:`TimedTagger`; ``/metrics`` exposes it. Store-derived gauges
(items, per-source crawl failures) are read at scrape time by
:class:`StoreCollector`, so they are never stale and cost nothing between scrapes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from dophu.config import Source
from dophu.metrics import TAGGING_SECONDS, TimedTagger, observe_tagging
from store import Store, StoreError

HTTP_REQUESTS = Counter(
    "dophu_http_requests", "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"])

HTTP_REQUEST_SECONDS = Histogram(
    "dophu_http_request_duration_seconds", "Time to answer an HTTP request, in seconds.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))


def record_request(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_REQUEST_SECONDS.labels(method, route).observe(seconds)


class StoreCollector(Collector):
    """Gauges read from the store when Prometheus scrapes: items and crawl failures."""

    def __init__(self, store: Store, sources: Callable[[], list[Source]]):
        self.store = store
        self.sources = sources

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("dophu_store_up", "1 when the store answered this scrape.")
        try:
            items = self.store.count()
            states = self.store.list_source_states()
        except StoreError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily("dophu_items", "Items in the store (duplicates included).",
                                value=items)
        failures = GaugeMetricFamily(
            "dophu_source_consecutive_failures",
            "Crawl passes in a row that failed, per source (0: the last pass succeeded).",
            labels=["source"])
        last_success = GaugeMetricFamily(
            "dophu_source_last_success_timestamp_seconds",
            "When a crawl of the source last succeeded (Unix time).", labels=["source"])
        known = [s.id for s in self.sources()]
        for source_id in sorted(set(known) | set(states)):
            state = states.get(source_id)
            failures.add_metric([source_id], state.consecutive_failures if state else 0)
            if state is not None and state.last_success is not None:
                last_success.add_metric([source_id], state.last_success.timestamp())
        yield failures
        yield last_success


def metrics_registry(store: Store, sources: Callable[[], list[Source]]) -> CollectorRegistry:
    """One app's own registry (its store's gauges); process-wide metrics stay in REGISTRY."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(store, sources))
    return registry


def exposition(app_registry: CollectorRegistry) -> bytes:
    """The text exposition of the process-wide metrics followed by the app's gauges."""
    return generate_latest(REGISTRY) + generate_latest(app_registry)


__all__ = ["CONTENT_TYPE_LATEST", "HTTP_REQUESTS", "HTTP_REQUEST_SECONDS", "TAGGING_SECONDS",
           "StoreCollector", "TimedTagger", "exposition", "metrics_registry",
           "observe_tagging", "record_request"]
