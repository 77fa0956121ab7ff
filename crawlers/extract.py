"""One HTML page → what it says about itself: title, text, dates, author, section, tags.

trafilatura finds the main text and most metadata; the page's own structured
data (Open Graph, ``itemprop``, JSON-LD) is read first for dates because it
carries the time and zone; Vietnamese date text near the headline is the next
best evidence. The same pass decides whether the page is an article at all
(home, section, tag, search and contact pages are not) and, for the video and
photo pages of broadcasters, keeps the caption as the text.
"""

from __future__ import annotations

import copy
import html as html_lib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import trafilatura
from lxml import html as lxml_html
from trafilatura.settings import use_config

from crawlers.dates import parse_any_datetime, plausible
from crawlers.links import (
    HOME_PATHS,
    absolute,
    is_non_article_path,
    looks_like_article,
    same_site,
)
from crawlers.listings import article_links, base_url, parse_html
from dophu.dates import parse_vietnamese_datetime
from dophu.text import normalize_text

PageType = Literal["article", "media", "home", "listing", "tag", "search", "contact", "empty"]

ARTICLE_TYPES = frozenset({"article", "newsarticle", "reportagenewsarticle", "blogposting",
                           "analysisnewsarticle", "opinionnewsarticle", "report",
                           "backgroundnewsarticle", "videoobject", "liveblogposting",
                           "imagegallery", "mediagallery", "photograph"})
MEDIA_TYPES = frozenset({"videoobject", "imagegallery", "mediagallery", "photograph"})
_MEDIA_PATH = re.compile(r"/(?:video|videos|clip|media|multimedia|photo|photos|anh|"
                         r"album|phong-su-anh|truyen-hinh|phat-thanh|podcast|tv)(?:[/-]|$)",
                         re.IGNORECASE)
_DATE_HINT = re.compile(r"date|time|publish|ngay|thoi-gian|posted|created|meta-info|post-info",
                        re.IGNORECASE)
_NOT_PUBLICATION = re.compile(r"now|current|today|clock|header-time|weather|timeline|"
                              r"update[d]?-time|sidebar|footer", re.IGNORECASE)
_CONTACT_WORDS = re.compile(r"^(?:liên hệ|contact|giới thiệu|about|tìm kiếm|search)\b",
                            re.IGNORECASE)
MIN_ARTICLE_CHARS = 250
MIN_DATED_ARTICLE_CHARS = 80

_TRAFILATURA_CONFIG = use_config()
_TRAFILATURA_CONFIG.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")
_TRAFILATURA_CONFIG.set("DEFAULT", "MIN_EXTRACTED_SIZE", "80")


@dataclass
class PageFacts:
    """What one page says about itself, before it meets its feed entry."""

    url: str
    page_type: PageType
    title: str = ""
    text: str = ""
    canonical: str | None = None
    published_at: datetime | None = None
    published_from: str | None = None       # "metadata" | "text" | "trafilatura"
    modified_at: datetime | None = None
    author: str | None = None
    section: str | None = None
    tags: list[str] = field(default_factory=list)
    description: str = ""
    language: str | None = None
    reason: str = ""                          # why it is not an article

    @property
    def is_item(self) -> bool:
        return self.page_type in ("article", "media")


# ---------------------------------------------------------------- structured metadata


class MetaTags:
    """A page's ``<meta>`` contents by attribute and name, read in one pass.

    ``get`` looks names up in the order given, each by ``property``, then
    ``name``, then ``itemprop``; the first non-empty value in page order wins.
    """

    ATTRIBUTES = ("property", "name", "itemprop")

    def __init__(self, tree: lxml_html.HtmlElement):
        self._values: dict[tuple[str, str], str] = {}
        for element in tree.iter("meta"):
            value = (element.get("content") or "").strip()
            if not value:
                continue
            for attr in self.ATTRIBUTES:
                key = element.get(attr)
                if key is not None:
                    self._values.setdefault((attr, key), value)

    def get(self, *names: str) -> str | None:
        for name in names:
            for attr in self.ATTRIBUTES:
                value = self._values.get((attr, name))
                if value:
                    return value
        return None


def _json_ld(tree: lxml_html.HtmlElement) -> list[dict[str, Any]]:
    """Every JSON-LD object on the page, @graph flattened; broken blocks skipped."""
    found: list[dict[str, Any]] = []
    for script in tree.xpath("//script[@type='application/ld+json']/text()"):
        try:
            data = json.loads(script.strip().rstrip(";"), strict=False)
        except (ValueError, TypeError):
            continue
        stack = data if isinstance(data, list) else [data]
        while stack:
            entry = stack.pop(0)
            if isinstance(entry, list):
                stack.extend(entry)
            elif isinstance(entry, dict):
                found.append(entry)
                if isinstance(entry.get("@graph"), list):
                    stack.extend(entry["@graph"])
    return found


def _ld_types(entry: dict[str, Any]) -> set[str]:
    value = entry.get("@type")
    values = value if isinstance(value, list) else [value]
    return {str(v).lower() for v in values if v}


def _unescape(text: str) -> str:
    """JSON-LD text often carries HTML entities, sometimes escaped twice (``&amp;#7871;``)."""
    for _ in range(2):
        if "&" not in text:
            break
        text = html_lib.unescape(text)
    return text


def _ld_text(value: Any) -> str | None:
    if isinstance(value, str):
        return _unescape(value).strip() or None
    if isinstance(value, dict):
        return _ld_text(value.get("name"))
    if isinstance(value, list):
        names = [n for n in (_ld_text(v) for v in value) if n]
        return ", ".join(names) or None
    return None


@dataclass
class _Structured:
    article_types: set[str] = field(default_factory=set)
    published: datetime | None = None
    modified: datetime | None = None
    author: str | None = None
    section: str | None = None
    tags: list[str] = field(default_factory=list)
    headline: str | None = None
    description: str | None = None
    og_type: str = ""

    @property
    def declares_article(self) -> bool:
        """Structured data that only article pages carry (Open Graph is too often wrong)."""
        return bool(self.article_types) or self.published is not None


def _structured(tree: lxml_html.HtmlElement, meta: MetaTags) -> _Structured:
    found = _Structured()
    for entry in _json_ld(tree):
        types = _ld_types(entry) & ARTICLE_TYPES
        if not types:
            continue
        found.article_types |= types
        found.published = found.published or parse_any_datetime(
            entry.get("datePublished") or entry.get("uploadDate"))
        found.modified = found.modified or parse_any_datetime(entry.get("dateModified"))
        found.author = found.author or _ld_text(entry.get("author"))
        found.section = found.section or _ld_text(entry.get("articleSection"))
        found.headline = found.headline or _ld_text(entry.get("headline") or entry.get("name"))
        found.description = found.description or _ld_text(entry.get("description"))
        keywords = entry.get("keywords")
        if keywords and not found.tags:
            found.tags = _split_tags(keywords)
    found.og_type = (meta.get("og:type") or "").lower()
    published_meta = meta.get("article:published_time", "datePublished", "pubdate",
                           "og:published_time", "dc.date.issued", "DC.date.issued",
                           "publishdate", "date")
    if published_meta:
        found.published = parse_any_datetime(published_meta) or found.published
    if found.published is None:
        for value in tree.xpath("//*[@itemprop='datePublished']/@datetime"
                                " | //*[@itemprop='datePublished']/@content"
                                " | //article//time/@datetime"):
            found.published = parse_any_datetime(value)
            if found.published:
                break
    modified_meta = meta.get("article:modified_time", "dateModified", "og:updated_time")
    found.modified = parse_any_datetime(modified_meta) or found.modified
    found.section = meta.get("article:section") or found.section
    tag_values = [v for v in tree.xpath("//meta[@property='article:tag']/@content") if v.strip()]
    if tag_values:
        found.tags = _split_tags(tag_values)
    elif not found.tags:
        found.tags = _split_tags(meta.get("news_keywords", "keywords") or "")
    found.author = meta.get("author", "article:author", "dable:author") or found.author
    if found.author and found.author.startswith("http"):
        found.author = None
    return found


def _split_tags(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    tags: list[str] = []
    for chunk in values:
        for part in re.split(r"[,;]", str(chunk)):
            tag = normalize_text(part, multiline=False)
            if tag and tag.lower() not in (t.lower() for t in tags):
                tags.append(tag)
    return tags[:30]


def text_dates(tree: lxml_html.HtmlElement, limit: int = 40) -> list[datetime]:
    """Dates written in elements that look like a byline or date line, in page order."""
    found: list[datetime] = []
    for element in tree.iter():
        if not isinstance(element.tag, str) or element.tag in ("script", "style", "head"):
            continue
        marker = f"{element.get('class', '')} {element.get('id', '')}"
        if element.tag != "time" and not _DATE_HINT.search(marker):
            continue
        if _NOT_PUBLICATION.search(marker) or any(
                _NOT_PUBLICATION.search(f"{a.get('class', '')} {a.get('id', '')}")
                or a.tag in ("header", "footer", "nav") for a in element.iterancestors()):
            continue
        text = " ".join(element.text_content().split())
        if not text or len(text) > 120:
            continue
        moment = plausible(parse_vietnamese_datetime(text))
        if moment is not None:
            found.append(moment)
            if len(found) >= limit:
                break
    return found


def _dates_near_headline(tree: lxml_html.HtmlElement) -> datetime | None:
    """A date in the first lines after the <h1>, for pages with no date markup at all."""
    headings = tree.xpath("//h1")
    if not headings:
        return None
    seen = 0
    for text in headings[0].xpath("following::text()"):
        text = " ".join(text.split())
        if not text:
            continue
        seen += 1
        moment = plausible(parse_vietnamese_datetime(text)) if len(text) <= 120 else None
        if moment is not None:
            return moment
        if seen >= 15:
            return None
    return None


# ---------------------------------------------------------------- media pages


def _is_media_page(tree: lxml_html.HtmlElement, meta: MetaTags, url: str,
                   structured: _Structured) -> bool:
    if structured.article_types & MEDIA_TYPES or _MEDIA_PATH.search(url):
        return True
    if structured.og_type.startswith("video") or meta.get("og:video"):
        return True
    players = tree.xpath("//video | //audio | //iframe[contains(@src,'youtube') or "
                         "contains(@src,'player') or contains(@src,'video')]")
    return bool(players)


def block_text(element: lxml_html.HtmlElement) -> str:
    """An element's text with its paragraphs and line breaks kept."""
    element = copy.deepcopy(element)
    for br in element.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for block in element.iter("p", "div", "li", "h2", "h3", "h4"):
        block.tail = "\n\n" + (block.tail or "")
    return normalize_text(element.text_content())


def _captions(tree: lxml_html.HtmlElement) -> str:
    """Caption and description blocks of a video or photo page, outermost first."""
    parts: list[str] = []
    for element in tree.xpath("//figcaption | //*[contains(@class,'caption') or "
                              "contains(@class,'sapo') or contains(@class,'description') or "
                              "contains(@class,'summary')]"):
        text = block_text(element)
        if text and len(text) < 20_000 and not any(text in seen for seen in parts):
            parts.append(text)
    return "\n\n".join(parts[:10])


# ---------------------------------------------------------------- the page


def _canonical(tree: lxml_html.HtmlElement, meta: MetaTags, url: str) -> str | None:
    """``<link rel=canonical>`` when it stays on this site (a republisher's tag pointing at
    the original would otherwise merge two units' items)."""
    base = base_url(tree, url)
    for href in tree.xpath("//link[@rel='canonical']/@href") + [meta.get("og:url") or ""]:
        target = absolute(href, base)
        if target and same_site(target, url):
            return target
    return None


def _trafilatura(tree: lxml_html.HtmlElement, html: str, url: str, *,
                 metadata: bool, fallback: bool = True) -> dict[str, Any]:
    """trafilatura's text (and metadata when asked) for the page; ``tree`` is consumed.

    The fast pass (no fallback extractors) runs on ``tree`` itself; only a page
    where it finds too little text is parsed again from ``html`` and pays for
    the fallbacks (readability, jusText), unless ``fallback`` is False.
    ``metadata`` is False when the page's structured data already gave the
    headline and date: trafilatura's own date search is the costliest part of
    its metadata.
    """
    options: dict[str, Any] = {
        "url": url, "with_metadata": metadata, "include_comments": False,
        "include_tables": True, "favor_precision": True, "config": _TRAFILATURA_CONFIG}
    if metadata:
        options["date_extraction_params"] = {"extensive_search": True, "original_date": True,
                                             "outputformat": "%Y-%m-%dT%H:%M:%S%z"}
    found: dict[str, Any] = {}
    for fast in (True, False) if fallback else (True,):
        try:
            source = tree if fast else parse_html(html)
            document = trafilatura.bare_extraction(source, fast=fast, **options)
        except Exception:  # noqa: BLE001 - a page trafilatura chokes on still has metadata
            document = None
        if document is not None:
            found = document.as_dict() if hasattr(document, "as_dict") else dict(document)
        if len(found.get("text") or "") >= MIN_ARTICLE_CHARS:
            break
    return found


def _url_page_type(url: str) -> PageType | None:
    if not is_non_article_path(url):
        return None
    lowered = url.lower()
    if re.search(r"/(?:tim-kiem|search)|[?&](?:q|keyword|tukhoa|s)=", lowered):
        return "search"
    if re.search(r"/(?:lien-he|contact|gioi-thieu|about)", lowered):
        return "contact"
    if re.search(r"/(?:tag|tags|the|tu-khoa|chu-de|topic|event)/", lowered):
        return "tag"
    if urlsplit(url).path in HOME_PATHS:
        return "home"
    return "listing"


def extract_page(html: str, url: str) -> PageFacts:
    """Facts about the page at ``url`` (its final URL, after redirects)."""
    tree = parse_html(html)
    meta = MetaTags(tree)
    canonical = _canonical(tree, meta, url)
    page_url = canonical or url
    url_type = _url_page_type(page_url) or _url_page_type(url)
    structured = _structured(tree, meta)
    title_tag = normalize_text(tree.xpath("string(//title)"), multiline=False)
    description = normalize_text(meta.get("og:description", "description") or
                                 structured.description or "")
    media = _is_media_page(tree, meta, page_url, structured)
    many_dates = text_dates(tree)
    # Listing detection only matters for a page that does not declare itself an article.
    links = (len(article_links(tree, page_url))
             if url_type is None and not structured.declares_article else 0)
    # Read what trafilatura's cleaning would remove before handing it the tree.
    page_title = normalize_text(structured.headline or meta.get("og:title") or
                                tree.xpath("string(//h1)"), multiline=False)
    near_headline = (_dates_near_headline(tree)
                     if structured.published is None and not many_dates else None)
    captions = _captions(tree) if media else ""
    # A home, section, tag or search page is not an item whatever its text: no extraction.
    # trafilatura's metadata pass is only needed where the page's own markup lacks a
    # headline or a publication date; a video page whose text is short gets its caption.
    if url_type is not None or _listing_like(url, structured, links, len(many_dates)):
        doc: dict[str, Any] = {}
    else:
        doc = _trafilatura(tree, html, page_url, metadata=not (page_title and structured.published),
                           fallback=not media)
    text = normalize_text(doc.get("text") or "")
    title = normalize_text(doc.get("title") or page_title or title_tag, multiline=False)
    if media and len(text) < MIN_ARTICLE_CHARS:
        text = captions or description or text    # the caption is the video's text
    published, origin = structured.published, "metadata"
    if published is None and many_dates:
        published, origin = many_dates[0], "text"
    if published is None:
        published, origin = near_headline, "text"
    if published is None and doc.get("date"):
        published, origin = parse_any_datetime(doc["date"]), "trafilatura"
    elif published is not None and origin == "text" and published.hour == 0 == published.minute:
        guess = parse_any_datetime(doc.get("date"))
        if guess and guess.date() == published.date() and (guess.hour or guess.minute):
            published = guess
    published = plausible(published)
    facts = PageFacts(
        url=url, page_type="article", title=title, text=text, canonical=canonical,
        published_at=published, published_from=origin if published else None,
        modified_at=plausible(structured.modified), description=description,
        author=structured.author or doc.get("author"),
        section=structured.section or _first(doc.get("categories")),
        tags=structured.tags or _split_tags(doc.get("tags") or []),
        language=(tree.get("lang") or doc.get("language") or None),
    )
    facts.page_type, facts.reason = _classify(facts, url_type, structured, media,
                                              len(many_dates), links, title_tag)
    return facts


def _first(value: Any) -> str | None:
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value if v)
    return str(value) if value else None


def _classify(facts: PageFacts, url_type: PageType | None, structured: _Structured,
              media: bool, date_count: int, article_link_count: int,
              title_tag: str) -> tuple[PageType, str]:
    """Is this page an item? (page type, reason when it is not)."""
    if url_type is not None:
        return url_type, f"{url_type} page (by its URL)"
    if not facts.title:
        return "empty", "no title"
    if _CONTACT_WORDS.match(facts.title) or _CONTACT_WORDS.match(title_tag):
        return "contact", "contact/about page"
    if _listing_like(facts.url, structured, article_link_count, date_count):
        return "listing", f"listing page ({article_link_count} article links, {date_count} dates)"
    if media and (facts.text or facts.title):
        return "media", ""
    if structured.declares_article and len(facts.text) >= MIN_DATED_ARTICLE_CHARS:
        return "article", ""
    if len(facts.text) >= MIN_ARTICLE_CHARS:
        return "article", ""
    if facts.published_at is not None and len(facts.text) >= MIN_DATED_ARTICLE_CHARS:
        return "article", ""
    return "empty", f"too little text ({len(facts.text)} characters)"


def _listing_like(url: str, structured: _Structured, article_link_count: int,
                  date_count: int) -> bool:
    """Many links to articles (and dates beside them) on a page that does not declare
    itself an article: a section or listing page."""
    if structured.declares_article:
        return False
    return (article_link_count >= 10 and not looks_like_article(url)) or (
        article_link_count >= 6 and date_count >= 4)
