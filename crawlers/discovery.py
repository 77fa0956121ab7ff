"""Finding a source's feeds, sitemaps and section pages from its home page.

Feeds: ``<link rel="alternate">`` on the home page, links to ``*.rss``, and the
usual paths (``/rss``, ``/feed``…), an HTML ``/rss`` page being read as a list
of section feeds. Sitemaps: ``Sitemap:`` lines of robots.txt, else the usual
paths. Section (listing) pages only when there is neither. The network is a
function passed in, so the same logic runs under Scrapy and in tests.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from lxml import html as lxml_html

from crawlers.encoding import decode_html
from crawlers.feeds import parse_feed
from crawlers.links import absolute, same_site
from crawlers.listings import base_url, parse_html, section_links
from crawlers.sitemaps import parse_sitemap

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml",
              "application/feed+json")
FEED_PROBES = ("/rss", "/feed", "/rss.xml", "/feed.xml", "/atom.xml", "/rss/index.rss")
SITEMAP_PROBES = ("/sitemap.xml", "/sitemap_index.xml", "/sitemap-news.xml",
                  "/news-sitemap.xml")
_FEED_HREF = re.compile(r"(?:\.rss|\.atom|/rss/?|/feed/?|rss\.xml|feed\.xml|atom\.xml)(?:$|\?)",
                        re.IGNORECASE)
_FEED_FILE = re.compile(r"\.(?:rss|atom|xml|rdf)$", re.IGNORECASE)
_SITEMAP_LINE = re.compile(r"^\s*sitemap\s*:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


@dataclass
class Fetched:
    """What the fetch function hands back: the final URL, status, type and body."""

    url: str
    status: int
    body: bytes = b""
    content_type: str = ""


Fetch = Callable[[str], Awaitable[Fetched | None]]   # None: could not be fetched at all


class DiscoveryError(RuntimeError):
    """The home page itself could not be read: the source has nothing to start from."""


@dataclass
class Discovery:
    feeds: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    listings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def feeds_in_html(tree: lxml_html.HtmlElement, page_url: str) -> list[str]:
    """Feed URLs a page announces (``<link rel=alternate>``, trusted as feeds) or links to
    (``*.rss`` files, or a ``/rss`` page that may list them)."""
    base = base_url(tree, page_url)
    found: list[str] = []
    for link in tree.xpath("//link[@href]"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower()
        if "alternate" in rel and kind in FEED_TYPES:
            url = absolute(link.get("href"), base)
            if url and url not in found:
                found.append(url)
    for anchor in tree.xpath("//a[@href]"):
        url = absolute(anchor.get("href"), base)
        if url and url not in found and same_site(url, page_url) and _FEED_HREF.search(
                urlsplit(url).path + ("?" if urlsplit(url).query else "")):
            found.append(url)
    return found


def sitemaps_in_robots(text: str, robots_url: str) -> list[str]:
    found: list[str] = []
    for match in _SITEMAP_LINE.finditer(text):
        url = absolute(match.group(1), robots_url)
        if url and url not in found:
            found.append(url)
    return found


def _looks_like_html(fetched: Fetched) -> bool:
    head = fetched.body[:512].lstrip().lower()
    return "html" in fetched.content_type.lower() or head.startswith((b"<!doctype html",
                                                                     b"<html"))


async def _feeds_behind(url: str, fetch: Fetch, limit: int) -> list[str]:
    """Feeds at a probed path: the path itself if it is a feed, or the feeds an HTML
    index page (``/rss``) lists; each listed feed is checked once."""
    fetched = await fetch(url)
    if fetched is None or fetched.status != 200 or not fetched.body:
        return []
    if not _looks_like_html(fetched):
        return [fetched.url] if parse_feed(fetched.body, fetched.url).entries else []
    tree = parse_html(decode_html(fetched.body, fetched.content_type).text)
    listed = [u for u in feeds_in_html(tree, fetched.url) if u != fetched.url][:limit]
    verified: list[str] = []
    for candidate in listed:
        child = await fetch(candidate)
        if child is not None and child.status == 200 and parse_feed(child.body, child.url).entries:
            verified.append(child.url)
    return verified


async def discover(home: str, fetch: Fetch, *, max_feeds: int = 30,
                   max_listings: int = 12) -> Discovery:
    """Feeds, sitemaps and (when there are neither) section pages of the site at ``home``."""
    found = Discovery()
    page = await fetch(home)
    if page is None or page.status != 200:
        status = "no response" if page is None else f"HTTP {page.status}"
        raise DiscoveryError(f"home page {home}: {status}")
    tree = parse_html(decode_html(page.body, page.content_type).text)
    for url in feeds_in_html(tree, page.url)[:max_feeds]:
        if _FEED_FILE.search(urlsplit(url).path) or url in found.feeds:
            if url not in found.feeds:
                found.feeds.append(url)
            continue
        found.feeds.extend(u for u in await _feeds_behind(url, fetch, max_feeds)
                           if u not in found.feeds)
    if not found.feeds:
        for path in FEED_PROBES:
            feeds = await _feeds_behind(urljoin(origin(page.url), path), fetch, max_feeds)
            if feeds:
                found.feeds = feeds[:max_feeds]
                found.notes.append(f"feeds found at {path}")
                break
    robots = await fetch(urljoin(origin(page.url), "/robots.txt"))
    if robots is not None and robots.status == 200:
        found.sitemaps = sitemaps_in_robots(robots.body.decode("utf-8", errors="replace"),
                                            robots.url)
    if not found.sitemaps:
        for path in SITEMAP_PROBES:
            probe = await fetch(urljoin(origin(page.url), path))
            if probe is None or probe.status != 200:
                continue
            parsed = parse_sitemap(probe.body, probe.url)
            if parsed.urls or parsed.children:
                found.sitemaps.append(probe.url)
                found.notes.append(f"sitemap found at {path}")
                break
    if not found.feeds and not found.sitemaps:
        found.listings = [page.url, *[u for u in section_links(tree, page.url, max_listings)
                                      if u != page.url]]
        found.notes.append("no feed or sitemap: crawling section pages")
    return found
