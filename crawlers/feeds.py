"""RSS 2.0, RSS 1.0 and Atom feeds (YouTube channel feeds included) through feedparser.

A malformed feed gives what parses and the error; an entry of a YouTube feed
(``yt:videoId``) carries its text (``media:description``) and is an item by
itself, so its page is never fetched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import feedparser
from lxml import html as lxml_html

from crawlers.dates import parse_any_datetime, plausible
from crawlers.links import absolute
from dophu.text import normalize_text

FEED_CONTENT_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml",
                      "application/xml", "text/xml", "application/feed+json")


# Label mismatches feedparser reports but reads through: not a broken feed.
_BENIGN = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


@dataclass
class FeedEntry:
    """One entry: where the article is and what the feed already tells about it."""

    url: str
    title: str = ""
    summary: str = ""
    published_at: datetime | None = None
    updated_at: datetime | None = None
    author: str | None = None
    tags: list[str] = field(default_factory=list)
    video_id: str | None = None            # a YouTube entry: an item without a page

    @property
    def lastmod(self) -> datetime | None:
        return self.updated_at or self.published_at

    @property
    def standalone(self) -> bool:
        """The feed holds the whole item (a video and its description)."""
        return self.video_id is not None


@dataclass
class ParsedFeed:
    entries: list[FeedEntry]
    version: str = ""
    title: str = ""
    error: str | None = None               # why the feed was not well formed

    @property
    def is_feed(self) -> bool:
        return bool(self.version) or bool(self.entries)


def _html_to_text(value: str) -> str:
    if "<" not in value:
        return normalize_text(value)
    try:
        fragment = lxml_html.fragment_fromstring(value, create_parent="div")
    except (ValueError, lxml_html.etree.ParserError):
        return normalize_text(value)
    for br in fragment.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for block in fragment.iter("p", "div", "li"):
        block.tail = "\n" + (block.tail or "")
    return normalize_text(fragment.text_content())


def _entry_text(entry: Any) -> str:
    candidates = [entry.get("media_description") or ""]
    for content in entry.get("content") or []:
        candidates.append(content.get("value") or "")
    candidates.append(entry.get("summary") or "")
    texts = [_html_to_text(c) for c in candidates if c]
    return max(texts, key=len) if texts else ""


def _entry_date(entry: Any, key: str) -> datetime | None:
    # dict.get: feedparser's own get() maps a missing "updated" to "published", with a warning
    raw = dict.get(entry, key)
    parsed = parse_any_datetime(raw) if raw else None
    if parsed is None and dict.get(entry, f"{key}_parsed"):
        parsed = parse_any_datetime(dict.get(entry, f"{key}_parsed"))
    return plausible(parsed)


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """Entries of the feed at ``url``; a broken feed yields what parsed and ``error``."""
    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(body, response_headers=headers or None, sanitize_html=False,
                              resolve_relative_uris=False)
    error = None
    exc = parsed.get("bozo_exception")
    if parsed.get("bozo") and not isinstance(exc, _BENIGN):
        error = f"malformed feed: {type(exc).__name__}: {exc}"[:300]
    entries: list[FeedEntry] = []
    version = parsed.get("version") or ""
    for entry in parsed.entries:
        published = _entry_date(entry, "published")
        updated = _entry_date(entry, "updated")
        if published is None and version.startswith(("rss09", "rss10")):
            published, updated = updated, None      # RSS 1.0's dc:date is the publication
        link = absolute(entry.get("link") or entry.get("id"), url)
        if link is None:
            continue
        tags = [normalize_text(t.get("term") or t.get("label") or "", multiline=False)
                for t in entry.get("tags") or []]
        entries.append(FeedEntry(
            url=link,
            title=normalize_text(entry.get("title") or "", multiline=False),
            summary=_entry_text(entry),
            published_at=published,
            updated_at=updated,
            author=normalize_text(entry.get("author") or "", multiline=False) or None,
            tags=[t for t in tags if t],
            video_id=entry.get("yt_videoid") or None,
        ))
    if not parsed.get("version") and not entries:
        error = error or "not a feed"
    return ParsedFeed(entries=entries, version=parsed.get("version") or "",
                      title=normalize_text(parsed.feed.get("title") or "", multiline=False),
                      error=error)
