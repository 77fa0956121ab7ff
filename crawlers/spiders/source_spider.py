"""One spider for every configured source: discover → feeds, sitemaps, listings → articles.

Per source: the entry points are the configured ones, else what discovery
found (kept in the source's state; discovery runs again when they keep
failing). Entry points are fetched conditionally; an unchanged one ends there.
An article page is fetched when the ledger does not know it, or when its feed
or sitemap says it changed since; YouTube feed entries are items by
themselves. Every failure is recorded against its source (``crawlers.state``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import scrapy
from scrapy.http import Request, Response
from scrapy.http.request import NO_CALLBACK
from twisted.python.failure import Failure

from crawlers.discovery import DiscoveryError, Fetched, discover
from crawlers.encoding import decode_html
from crawlers.extract import extract_page
from crawlers.failures import classify
from crawlers.feeds import FeedEntry, parse_feed
from crawlers.items import EntryHints, item_from_feed_entry, item_from_page
from crawlers.ledger import Ledger
from crawlers.listings import article_links, next_page, parse_html
from crawlers.neardup import NearDuplicateIndex, signature, to_bytes
from crawlers.pipelines import CrawledItem, SourceBatches
from crawlers.sitemaps import parse_sitemap
from crawlers.state import SourceRun, new_state
from dophu.config import Source
from dophu.context import Context
from dophu.models import Item, item_id_for_url
from dophu.settings import CrawlSettings
from dophu.tag_worker import TaggingWorker, tag_all
from dophu.tagging import load_tagger
from dophu.urls import canonical_url

log = logging.getLogger(__name__)

_NOT_LOADED = object()
PRIORITY = {"home": 100, "feed": 50, "sitemap": 50, "listing": 40, "article": 0}
HTML_TYPES = ("text/html", "application/xhtml", "text/plain", "")


def near_duplicate_index(ledger: Ledger, store: Any, since: datetime, threshold: float
                         ) -> NearDuplicateIndex:
    """The index of the originals stored since ``since``. Signatures another scheme made
    (an older dophu) are made again from the stored stories, once, so that copies of
    them are still found."""
    index = NearDuplicateIndex(threshold)
    index.load(ledger.signatures(since))
    if not index.unreadable:
        return index
    fresh: list[tuple[str, bytes]] = []
    for item_id, _source, published in index.unreadable:
        item = store.get(item_id)
        minhash = signature(item.title, item.text) if item is not None else None
        if minhash is not None:
            index.add(item_id, minhash, published)
            fresh.append((item_id, to_bytes(minhash)))
    ledger.replace_signatures(fresh)
    ledger.drop_signatures({i for i, _, _ in index.unreadable} - {i for i, _ in fresh})
    log.info("near-duplicates: %d signatures of an older scheme made again, %d dropped",
             len(fresh), len(index.unreadable) - len(fresh))
    index.unreadable.clear()
    return index


class SourceSpider(scrapy.Spider):
    name = "dophu-sources"

    def __init__(self, context: Context, sources: list[Source],
                 crawl_settings: CrawlSettings, tagging: TaggingWorker | None = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.context = context
        self.tagging = tagging
        self.settings_crawl = crawl_settings
        self.sources = {s.id: s for s in sources}
        self.store = context.store
        self.ledger = Ledger(context.data_dir)
        self._tagger: Any = _NOT_LOADED
        since = datetime.now(UTC) - timedelta(days=crawl_settings.near_duplicate_window_days)
        self.neardup = near_duplicate_index(self.ledger, self.store, since,
                                            crawl_settings.near_duplicate_threshold)
        self.store_writer = SourceBatches(self, crawl_settings.store_batch_size)
        states = self.store.list_source_states()
        self.book: dict[str, SourceRun] = {
            s.id: SourceRun(source=s, state=states.get(s.id) or new_state(s.id))
            for s in sources}
        self.requested: set[str] = set()
        self.close_reason: str | None = None

    @property
    def tagger(self) -> Any:
        """The classifier, loaded when the first item needs it (a pass that finds nothing
        new does not pay for loading a model)."""
        if self._tagger is _NOT_LOADED:
            self._tagger = load_tagger(self.context)
        return self._tagger

    def tag_batch(self, items: list[Item]) -> list[Item]:
        """``items`` tagged: by the tagging child process when the crawl runs one (it
        loaded the model while Scrapy started), else here; untagged without a classifier."""
        if self.tagging is not None:
            return self.tagging.tag(items)
        return tag_all(self.tagger, items)

    # ------------------------------------------------------------------ start

    async def start(self) -> AsyncIterator[Request]:
        for source in self.sources.values():
            for request in self._source_start(source, self.book[source.id]):
                yield request

    def start_requests(self) -> Iterator[Request]:  # Scrapy < 2.13
        for source in self.sources.values():
            yield from self._source_start(source, self.book[source.id])

    def _entry_points(self, source: Source, run: SourceRun) -> list[tuple[str, str]]:
        """Configured feeds, sitemaps and listings, plus what discovery found (discovery
        runs for a configured source only when its own entry points keep failing), plus
        the home page as a listing (``home_as_listing``: a feed holds only the newest)."""
        state = run.state
        points: list[tuple[str, str]] = []
        for role, configured, discovered in (
                ("feed", source.feeds, state.discovered_feeds),
                ("sitemap", source.sitemaps, state.discovered_sitemaps),
                ("listing", source.listings, state.discovered_listings)):
            for url in [*configured, *discovered]:
                if (role, url) not in points:
                    points.append((role, url))
        if points and source.home and self.settings_crawl.home_as_listing and (
                ("listing", source.home) not in points):
            points.append(("listing", source.home))
        return points

    def _needs_discovery(self, source: Source, run: SourceRun) -> bool:
        if not source.home:
            return False
        if not self._entry_points(source, run):
            return True
        limit = self.settings_crawl.rediscover_after_failures
        failures: dict[str, int] = getattr(run.state, "entry_failures", None) or {}
        return any(count >= limit for count in failures.values()) or (
            run.state.consecutive_failures >= limit)

    def _source_start(self, source: Source, run: SourceRun) -> Iterator[Request]:
        points = self._entry_points(source, run)
        if self._needs_discovery(source, run):
            # validators out only: the home page is read in full, its ETag kept for next time
            yield self._request(source, source.home or "", "home", self.parse_home,
                                self.home_failed, dont_filter=True, validators={})
        for role, url in points:
            yield from self._entry_request(source, run, role, url)
        for url in self.ledger.failing_pages(source.id, self.settings_crawl.max_url_errors):
            request = self._article_request(source, run, url, via="retry", lastmod=None,
                                            hints=None, via_url=None, force=True)
            if request is not None:
                yield request

    # ------------------------------------------------------------------ requests

    def _request(self, source: Source, url: str, role: str, callback: Any, errback: Any,
                 **meta: Any) -> Request:
        dont_filter = meta.pop("dont_filter", False)
        return Request(url, callback=callback, errback=errback, priority=PRIORITY[role],
                       dont_filter=dont_filter,
                       meta={"source_id": source.id, "role": role, "entry_url": url, **meta})

    def _entry_request(self, source: Source, run: SourceRun, role: str, url: str,
                       depth: int = 0, full_depth: bool = False) -> Iterator[Request]:
        callback = {"feed": self.parse_feed, "sitemap": self.parse_sitemap,
                    "listing": self.parse_listing}[role]
        meta: dict[str, Any] = {"depth_in_listing": depth, "dont_filter": True,
                                "full_depth": full_depth}
        if depth == 0:
            meta["validators"] = dict(run.state.http_cache.get(url) or {})
            meta["handle_httpstatus_list"] = [304]
            # never read to the end (first pass, or the last one was cut short): go to
            # listing_depth even through pages of known articles
            meta["full_depth"] = not meta["validators"]
        yield self._request(source, url, role, callback, self.entry_failed, **meta)

    def _article_request(self, source: Source, run: SourceRun, url: str, *, via: str,
                         lastmod: datetime | None, hints: EntryHints | None,
                         via_url: str | None, force: bool = False) -> Request | None:
        page_url = canonical_url(url)
        if page_url in self.requested:
            return None
        if not force and not self._should_fetch(source, page_url, lastmod):
            return None
        if run.requested >= self.settings_crawl.max_items_per_source:
            run.capped = True
            return None
        self.requested.add(page_url)
        run.requested += 1
        return self._request(
            source, url, "article", self.parse_article, self.article_failed,
            page_url=page_url, via=via, via_url=via_url,
            lastmod=lastmod.isoformat() if lastmod else None,
            hints=hints.to_meta() if hints else None)

    def _should_fetch(self, source: Source, page_url: str, lastmod: datetime | None) -> bool:
        """The ledger decides; a page it has never heard of but whose item is in the store
        (the ledger was lost, or a kill fell between the store write and the ledger's) is
        taken as known, and remembered."""
        if not self.ledger.should_fetch(page_url, lastmod, self.settings_crawl.max_url_errors):
            return False
        if self.ledger.page(page_url) is not None:
            return True
        item_id = item_id_for_url(page_url)
        if not self.store.known_ids([item_id]):
            return True
        stored = self.store.get(item_id) if lastmod else None
        if stored is not None and stored.fetched_at is not None and lastmod > stored.fetched_at:
            return True
        self.ledger.mark_items([(page_url, source.id, item_id, lastmod)])
        return False

    # ------------------------------------------------------------------ helpers

    def _run(self, response_or_failure: Response | Failure) -> tuple[Source, SourceRun]:
        request = (response_or_failure.request if isinstance(response_or_failure, Failure)
                   else response_or_failure.request)
        source_id = request.meta["source_id"]
        return self.sources[source_id], self.book[source_id]

    @staticmethod
    def _content_type(response: Response) -> str:
        raw = response.headers.get("Content-Type") or b""
        return raw.decode("latin-1")

    def _unchanged(self, response: Response, run: SourceRun) -> bool:
        """A 304 or the same body as last time: nothing to read, and the entry point is fine."""
        entry_url = response.meta["entry_url"]
        if response.status == 304 or response.meta.get("not_modified"):
            run.not_modified += 1
            run.entry_ok.add(entry_url)
            return True
        return False

    def _read(self, response: Response, run: SourceRun) -> None:
        entry_url = response.meta["entry_url"]
        run.entry_ok.add(entry_url)
        fresh = dict(response.meta.get("new_validators") or {})
        if response.meta.get("child_lastmod"):
            fresh["lastmod"] = response.meta["child_lastmod"]
        if fresh and response.meta.get("depth_in_listing", 0) == 0:
            run.validators[entry_url] = fresh

    # ------------------------------------------------------------------ discovery

    async def parse_home(self, response: Response) -> AsyncIterator[Request]:
        source, run = self._run(response)
        run.fetched += 1
        home = Fetched(response.url, response.status, response.body,
                       self._content_type(response))
        requested_home = response.meta["entry_url"]

        async def fetch(url: str) -> Fetched | None:
            if url in (requested_home, home.url):
                return home
            request = Request(url, callback=NO_CALLBACK, dont_filter=True,
                              meta={"source_id": source.id, "handle_httpstatus_all": True})
            try:
                got = await self.crawler.engine.download_async(request)
            except Exception as exc:  # noqa: BLE001 - a failed probe is simply not there
                log.debug("probe %s failed: %s", url, exc)
                return None
            run.fetched += 1
            return Fetched(got.url, got.status, got.body, self._content_type(got))

        before = {url for _, url in self._entry_points(source, run)}
        crawl = self.settings_crawl
        try:
            found = await discover(source.home or response.url, fetch,
                                   max_feeds=crawl.max_discovered_feeds)
        except DiscoveryError as exc:
            self._discovery_failed(run, str(exc), bool(before))
            return
        state = run.state
        state.discovered_feeds, state.discovered_sitemaps = found.feeds, found.sitemaps
        state.discovered_listings, state.discovered_at = found.listings, datetime.now(UTC)
        run.discovered = True
        for role, url in self._entry_points(source, run):
            if url in before:
                continue       # already asked for by _source_start
            if role == "listing" and url == response.meta["entry_url"]:
                for request in self._listing(response, source, run):
                    yield request        # the home page just read is a listing too
                continue
            for request in self._entry_request(source, run, role, url):
                yield request

    def _discovery_failed(self, run: SourceRun, message: str, had_points: bool) -> None:
        run.error(run.source.home or "", "discovery", message)
        if not had_points:
            run.discovery_error = message      # nothing else to read: the pass failed

    def home_failed(self, failure: Failure) -> None:
        source, run = self._run(failure)
        kind, message = classify(failure)
        self._discovery_failed(run, f"home page {source.home}: {kind}"
                               + (f" ({message})" if message else ""),
                               bool(self._entry_points(source, run)))

    # ------------------------------------------------------------------ entry points

    def entry_failed(self, failure: Failure) -> None:
        _, run = self._run(failure)
        request = failure.request
        kind, message = classify(failure)
        if request.meta.get("depth_in_listing", 0) > 0:
            run.error(request.url, kind, message)     # a later page of a listing
            return
        run.entry_point_failed(request.meta["entry_url"], kind, message)

    def parse_feed(self, response: Response) -> Iterator[Any]:
        source, run = self._run(response)
        run.fetched += 1
        if self._unchanged(response, run):
            return
        parsed = parse_feed(response.body, response.url, self._content_type(response))
        if not parsed.is_feed:
            run.entry_point_failed(response.meta["entry_url"], "parse",
                                   parsed.error or "not a feed")
            return
        if parsed.error:
            run.error(response.url, "parse", parsed.error)
        self._read(response, run)
        now = datetime.now(UTC)
        for entry in sorted(parsed.entries, key=_newest_first):
            run.seen += 1
            if entry.standalone:
                item = self._standalone(source, run, entry, response.url, now)
                if item is not None:
                    yield item
                continue
            request = self._article_request(source, run, entry.url, via="feed",
                                            lastmod=entry.lastmod,
                                            hints=EntryHints.from_feed(entry),
                                            via_url=response.url)
            if request is not None:
                yield request

    def _standalone(self, source: Source, run: SourceRun, entry: FeedEntry, feed_url: str,
                    now: datetime) -> CrawledItem | None:
        page_url = canonical_url(entry.url)
        if page_url in self.requested or not self._should_fetch(source, page_url, entry.lastmod):
            return None
        if run.requested >= self.settings_crawl.max_items_per_source:
            run.capped = True
            return None
        self.requested.add(page_url)
        run.requested += 1
        item = item_from_feed_entry(source, entry, feed_url=feed_url, fetched_at=now)
        return CrawledItem(item=item, page_urls=[page_url], lastmod=entry.lastmod)

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        source, run = self._run(response)
        run.fetched += 1
        if self._unchanged(response, run):
            return
        parsed = parse_sitemap(response.body, response.url)
        if not parsed.urls and not parsed.children:
            run.entry_point_failed(response.meta["entry_url"], "parse",
                                   parsed.error or "empty sitemap")
            return
        if parsed.error:
            run.error(response.url, "parse", parsed.error)
        self._read(response, run)
        children = sorted(parsed.children, key=lambda e: e.lastmod or _EPOCH, reverse=True)
        for child in children[:self.settings_crawl.sitemap_children]:
            seen = run.state.http_cache.get(child.url) or {}
            if child.lastmod and seen.get("lastmod") == child.lastmod.isoformat():
                continue
            for request in self._entry_request(source, run, "sitemap", child.url):
                if child.lastmod:
                    request.meta["child_lastmod"] = child.lastmod.isoformat()
                yield request
        for entry in sorted(parsed.urls, key=lambda e: e.changed_at or _EPOCH, reverse=True):
            run.seen += 1
            request = self._article_request(source, run, entry.url, via="sitemap",
                                            lastmod=entry.changed_at,
                                            hints=EntryHints.from_sitemap(entry),
                                            via_url=response.url)
            if request is not None:
                yield request

    def parse_listing(self, response: Response) -> Iterator[Request]:
        source, run = self._run(response)
        run.fetched += 1
        if self._unchanged(response, run):
            return
        yield from self._listing(response, source, run)

    def _listing(self, response: Response, source: Source, run: SourceRun
                 ) -> Iterator[Request]:
        self._read(response, run)
        decoded = decode_html(response.body, self._content_type(response))
        tree = parse_html(decoded.text)
        new = 0
        for link in article_links(tree, response.url):
            run.seen += 1
            request = self._article_request(source, run, link.url, via="listing", lastmod=None,
                                            hints=EntryHints(title=link.text),
                                            via_url=response.url)
            if request is not None:
                new += 1
                yield request
        depth = response.meta.get("depth_in_listing", 0)
        full_depth = bool(response.meta.get("full_depth"))
        if (new or full_depth) and depth < self.settings_crawl.listing_depth:
            following = next_page(tree, response.url)
            if following and canonical_url(following) not in self.requested:
                self.requested.add(canonical_url(following))
                yield from self._entry_request(source, run, "listing", following, depth + 1,
                                               full_depth=full_depth)

    # ------------------------------------------------------------------ articles

    def article_failed(self, failure: Failure) -> None:
        source, run = self._run(failure)
        request = failure.request
        kind, message = classify(failure)
        run.error(request.url, kind, message)
        page_url = request.meta["page_url"]
        if kind == "robots-disallowed":
            self.ledger.mark_skipped(page_url, source.id, kind)
        else:
            self.ledger.mark_error(page_url, source.id, kind)

    def parse_article(self, response: Response) -> Iterator[CrawledItem]:
        source, run = self._run(response)
        run.fetched += 1
        meta = response.meta
        page_url = meta["page_url"]
        lastmod = datetime.fromisoformat(meta["lastmod"]) if meta.get("lastmod") else None
        content_type = self._content_type(response)
        if not content_type.split(";")[0].strip().lower().startswith(HTML_TYPES):
            self.ledger.mark_skipped(page_url, source.id, f"not a web page ({content_type})",
                                     lastmod)
            run.skipped += 1
            return
        decoded = decode_html(response.body, content_type)
        facts = extract_page(decoded.text, response.url)
        hints = EntryHints.from_meta(meta.get("hints"))
        from_feed = meta.get("via") in ("feed", "sitemap") and bool(hints.title)
        if not facts.is_item and not (from_feed and facts.page_type == "empty"):
            self.ledger.mark_skipped(page_url, source.id, facts.reason, lastmod)
            run.skipped += 1
            return
        item = item_from_page(
            source, facts, hints, final_url=response.url, requested_url=meta["entry_url"],
            redirects=list(meta.get("redirect_urls") or []), decoded=decoded,
            via=meta.get("via") or "", via_url=meta.get("via_url"),
            fetched_at=datetime.now(UTC))
        yield CrawledItem(item=item, page_urls=[page_url, item.url], lastmod=lastmod)

    def closed(self, reason: str) -> None:
        self.close_reason = reason


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _newest_first(entry: FeedEntry) -> float:
    moment = entry.lastmod
    return -(moment.timestamp() if moment else 0.0)
