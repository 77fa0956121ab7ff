"""XML sitemaps: URL sets with ``lastmod``, sitemap indexes, Google News sitemaps, gzip."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from crawlers.dates import parse_any_datetime, plausible
from crawlers.links import absolute
from dophu.text import normalize_text

MAX_SITEMAP_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class SitemapEntry:
    url: str
    lastmod: datetime | None = None
    news_title: str = ""                   # Google News sitemaps name the article
    news_published: datetime | None = None

    @property
    def changed_at(self) -> datetime | None:
        return self.lastmod or self.news_published


@dataclass
class ParsedSitemap:
    urls: list[SitemapEntry]
    children: list[SitemapEntry]           # a sitemap index lists other sitemaps
    error: str | None = None


def _local(tag: object) -> str:
    return etree.QName(tag).localname.lower() if isinstance(tag, str) else ""


def _child_text(element: etree._Element, name: str) -> str:
    for child in element.iter():
        if _local(child.tag) == name and child.text:
            return child.text.strip()
    return ""


def maybe_gunzip(body: bytes) -> bytes:
    if body[:2] == b"\x1f\x8b":
        from scrapy.utils.gz import gunzip

        return gunzip(body, max_size=MAX_SITEMAP_BYTES)
    return body


def parse_sitemap(body: bytes, url: str) -> ParsedSitemap:
    """URLs (or child sitemaps) with their dates; a broken file gives what parsed."""
    try:
        body = maybe_gunzip(body)
    except OSError as exc:
        return ParsedSitemap([], [], error=f"sitemap is not valid gzip: {exc}")
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True,
                             huge_tree=False)
    try:
        root = etree.fromstring(body.strip() or b"<x/>", parser=parser)
    except etree.XMLSyntaxError as exc:
        return ParsedSitemap([], [], error=f"sitemap is not XML: {exc}")
    if root is None:
        return ParsedSitemap([], [], error="sitemap is empty")
    kind = _local(root.tag)
    if kind not in ("urlset", "sitemapindex"):
        return ParsedSitemap([], [], error=f"not a sitemap (root element <{kind}>)")
    urls: list[SitemapEntry] = []
    children: list[SitemapEntry] = []
    for element in root:
        name = _local(element.tag)
        if name not in ("url", "sitemap"):
            continue
        loc = absolute(_child_text(element, "loc"), url)
        if loc is None:
            continue
        entry = SitemapEntry(
            url=loc,
            lastmod=plausible(parse_any_datetime(_child_text(element, "lastmod"))),
            news_title=normalize_text(_child_text(element, "title"), multiline=False),
            news_published=plausible(parse_any_datetime(
                _child_text(element, "publication_date"))),
        )
        (children if name == "sitemap" else urls).append(entry)
    error = None
    if parser.error_log:
        error = f"malformed sitemap: {parser.error_log[0].message}"[:300]
    return ParsedSitemap(urls, children, error)
