"""Building an ``Item`` from a page's facts and what its feed or sitemap said about it.

The page wins where it says more (its full text, its own dated metadata); the
feed entry fills what the page leaves out (a title, a summary as text, a
date, author, tags). The canonical URL is the page's ``<link rel=canonical>``
on the same site, else the final URL after redirects.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from crawlers.dates import parse_any_datetime
from crawlers.encoding import DecodedPage
from crawlers.extract import PageFacts
from crawlers.feeds import FeedEntry
from crawlers.sitemaps import SitemapEntry
from dophu.config import Source
from dophu.models import Item, item_id_for_url
from dophu.urls import canonical_url


@dataclass
class EntryHints:
    """What a feed entry or news sitemap told us before the page was fetched."""

    title: str = ""
    summary: str = ""
    published_at: datetime | None = None
    updated_at: datetime | None = None
    author: str | None = None
    tags: list[str] = field(default_factory=list)
    section: str | None = None

    @classmethod
    def from_feed(cls, entry: FeedEntry) -> EntryHints:
        return cls(title=entry.title, summary=entry.summary, published_at=entry.published_at,
                   updated_at=entry.updated_at, author=entry.author, tags=list(entry.tags))

    @classmethod
    def from_sitemap(cls, entry: SitemapEntry) -> EntryHints:
        return cls(title=entry.news_title, published_at=entry.news_published,
                   updated_at=entry.lastmod)

    def to_meta(self) -> dict[str, Any]:
        """A plain dict for Scrapy request meta."""
        data = asdict(self)
        for key in ("published_at", "updated_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data

    @classmethod
    def from_meta(cls, data: dict[str, Any] | None) -> EntryHints:
        if not data:
            return cls()
        return cls(**{**data, "published_at": parse_any_datetime(data.get("published_at")),
                      "updated_at": parse_any_datetime(data.get("updated_at"))})


def _clean_meta(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in (None, "", [], {})}


def published_time(facts: PageFacts, hints: EntryHints) -> tuple[datetime | None, str | None]:
    """Page metadata first (it has the time and zone), then the feed, then page text."""
    if facts.published_at is not None and facts.published_from == "metadata":
        return facts.published_at, "metadata"
    if hints.published_at is not None:
        return hints.published_at, "feed"
    if facts.published_at is not None:
        return facts.published_at, facts.published_from
    if hints.updated_at is not None:
        return hints.updated_at, "feed-updated"
    return None, None


def item_from_page(source: Source, facts: PageFacts, hints: EntryHints, *, final_url: str,
                   requested_url: str, redirects: list[str], decoded: DecodedPage,
                   via: str, via_url: str | None, fetched_at: datetime) -> Item:
    canonical = canonical_url(facts.canonical or final_url)
    text = facts.text
    if len(text) < len(hints.summary):
        text = hints.summary
    published, origin = published_time(facts, hints)
    meta = _clean_meta({
        "requested_url": requested_url if requested_url != canonical else None,
        "redirects": redirects or None,
        "page_type": facts.page_type,
        "via": via, "via_url": via_url,
        "published_from": origin,
        "modified_at": (facts.modified_at or hints.updated_at).isoformat()
        if (facts.modified_at or hints.updated_at) else None,
        "author": facts.author or hints.author,
        "section": facts.section or hints.section,
        "tags": facts.tags or hints.tags,
        "description": facts.description if facts.description != text else None,
        "encoding": decoded.encoding,
        "declared_encoding": decoded.declared if decoded.mislabelled else None,
        "mojibake_repaired": decoded.repaired or None,
        "language": facts.language,
    })
    return Item(id=item_id_for_url(canonical), url=canonical, source=source.id,
                unit=source.unit, kind=source.kind, title=facts.title or hints.title or canonical,
                text=text, published_at=published, fetched_at=fetched_at, meta=meta)


def item_from_feed_entry(source: Source, entry: FeedEntry, *, feed_url: str,
                         fetched_at: datetime) -> Item:
    """A feed entry that is the whole item (a YouTube video and its description)."""
    canonical = canonical_url(entry.url)
    meta = _clean_meta({
        "via": "feed", "via_url": feed_url, "page_type": "media",
        "video_id": entry.video_id, "author": entry.author, "tags": entry.tags,
        "modified_at": entry.updated_at.isoformat() if entry.updated_at else None,
        "published_from": "feed",
    })
    return Item(id=item_id_for_url(canonical), url=canonical, source=source.id,
                unit=source.unit, kind=source.kind, title=entry.title or canonical,
                text=entry.summary, published_at=entry.published_at or entry.updated_at,
                fetched_at=fetched_at, meta=meta)
