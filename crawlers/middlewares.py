"""Downloader middlewares: a politeness slot per site, conditional GET, retries with back-off.

* ``HostSlotMiddleware``: one download slot per host *and port*, so the delay and
  concurrency limits hold per site (local demo sites differ only by port).
* ``ConditionalGetMiddleware``: sends the ETag/Last-Modified the spider stored
  for a feed, sitemap or listing page; a 200 whose body hashes as before is
  flagged unchanged; robots.txt is asked for conditionally too (its body kept
  in the ledger), so an unchanged site costs only 304s.
* ``BackoffRetryMiddleware``: Scrapy's retries, waiting ``retry_backoff_seconds``
  doubling on each try, and exactly the ``Retry-After`` a 429/503 asks for (a
  longer one gives up for this pass; the error is recorded).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.task import deferLater

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


def body_hash(body: bytes) -> str:
    return hashlib.sha1(body).hexdigest()


async def sleep(seconds: float) -> None:
    if seconds > 0:
        from twisted.internet import reactor  # the one Scrapy installed, never at import time

        await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))


class HostSlotMiddleware:
    def process_request(self, request: Request, spider: Any = None) -> None:
        request.meta.setdefault("download_slot", urlparse_cached(request).netloc)


class ConditionalGetMiddleware:
    """Validators in, validators out: ``meta['validators']`` → ``meta['new_validators']``."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalGetMiddleware:
        return cls(crawler)

    @property
    def _ledger(self) -> Any:
        return getattr(self.crawler.spider, "ledger", None)

    @staticmethod
    def _is_robots(request: Request) -> bool:
        return urlparse_cached(request).path == "/robots.txt"

    def process_request(self, request: Request, spider: Any = None) -> None:
        validators: dict[str, str] | None = request.meta.get("validators")
        if self._is_robots(request) and self._ledger is not None:
            cached = self._ledger.robots(request.url)
            if cached:
                etag, modified, _ = cached
                validators = {"etag": etag or "", "last_modified": modified or ""}
        if not validators:
            return          # nothing stored yet: a plain GET (validators still come back)
        if validators.get("etag"):
            request.headers.setdefault("If-None-Match", validators["etag"])
        if validators.get("last_modified"):
            request.headers.setdefault("If-Modified-Since", validators["last_modified"])

    def process_response(self, request: Request, response: Response,
                         spider: Any = None) -> Response:
        if self._is_robots(request) and self._ledger is not None:
            return self._robots(request, response)
        if "validators" not in request.meta:
            return response
        if response.status == 304:
            request.meta["not_modified"] = True
            return response
        if response.status == 200:
            digest = body_hash(response.body)
            old = request.meta.get("validators") or {}
            request.meta["not_modified"] = bool(old.get("hash")) and old["hash"] == digest
            fresh = {"hash": digest}
            if response.headers.get("ETag"):
                fresh["etag"] = response.headers.get("ETag").decode("latin-1")
            if response.headers.get("Last-Modified"):
                fresh["last_modified"] = response.headers.get("Last-Modified").decode("latin-1")
            request.meta["new_validators"] = fresh
        return response

    def _robots(self, request: Request, response: Response) -> Response:
        if response.status == 304:
            cached = self._ledger.robots(request.url)
            if cached:
                return response.replace(status=200, body=cached[2])
        elif response.status == 200:
            etag = response.headers.get("ETag")
            modified = response.headers.get("Last-Modified")
            if etag or modified:
                self._ledger.put_robots(
                    request.url, etag.decode("latin-1") if etag else None,
                    modified.decode("latin-1") if modified else None, response.body)
        return response


def retry_after_seconds(response: Response) -> float | None:
    """``Retry-After`` as seconds (it may be a number or an HTTP date)."""
    raw = response.headers.get("Retry-After")
    if not raw:
        return None
    text = raw.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    """Retries that wait: exponential back-off, and the server's Retry-After honoured."""

    def __init__(self, settings: Any):
        super().__init__(settings)
        crawl = settings.getdict("DOPHU_CRAWL")
        self.backoff = float(crawl.get("retry_backoff_seconds", 2.0))
        self.max_retry_after = float(crawl.get("max_retry_after_seconds", 300))

    def _wait(self, request: Request) -> float:
        return self.backoff * (2 ** request.meta.get("retry_times", 0))

    def _slow_down_host(self, request: Request, seconds: float) -> None:
        engine = getattr(self.crawler, "engine", None)
        downloader = getattr(engine, "downloader", None)
        if downloader is None:
            return
        slot = downloader.slots.get(downloader.get_slot_key(request))
        if slot is not None:
            slot.delay = max(slot.delay, seconds)

    async def process_response(self, request: Request, response: Response,
                               spider: Any = None) -> Request | Response:
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes:
            return response
        asked = retry_after_seconds(response)
        if asked is not None and asked > self.max_retry_after:
            request.meta["retry_after_refused"] = asked
            return response
        retry = self._retry(request, f"HTTP {response.status}")
        if retry is None:
            return response
        wait = asked if asked is not None else self._wait(request)
        if asked is not None:
            self._slow_down_host(request, min(asked, self.max_retry_after))
        await sleep(wait)
        return retry

    async def process_exception(self, request: Request, exception: Exception,
                                spider: Any = None) -> Request | Response | None:
        if request.meta.get("dont_retry") or not isinstance(exception, self.exceptions_to_retry):
            return None
        retry = self._retry(request, exception)
        if retry is None:
            return None
        await sleep(self._wait(request))
        return retry
