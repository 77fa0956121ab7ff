"""What a link points at, judged from its URL and anchor text: article, section, or neither.

Vietnamese news and portal sites name articles with a long slug and usually a
numeric id (``/gia-vang-giam-...-20260307080054340.htm``, ``...-d538952.html``,
``chi-tiet.aspx?ItemID=123``) and sections with a short one (``/kinh-doanh``).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urljoin, urlsplit

from dophu.text import fold_lower
from dophu.urls import host_of

# Path segments that name a page about other pages, never an article.
NON_ARTICLE_SEGMENTS = frozenset({
    "tag", "tags", "the", "tu-khoa", "chu-de", "topic", "topics", "tim-kiem", "search",
    "lien-he", "contact", "gioi-thieu", "about", "dang-nhap", "login", "dang-ky", "register",
    "rss", "feed", "feeds", "sitemap", "tac-gia", "author", "authors", "category",
    "chuyen-muc", "danh-muc", "collection", "so-do-website", "sodo", "tai-khoan", "event",
})
HOME_PATHS = frozenset({"", "/", "/index.html", "/index.htm", "/index.php", "/index.aspx",
                        "/default.aspx", "/trang-chu", "/home", "/trang-chu.html"})
_EXTENSION = re.compile(r"\.(?:html?|chn|aspx?|php|shtml|vn|tpo|ldo)$", re.IGNORECASE)
_ID_QUERY = re.compile(r"^(?:id|itemid|newsid|articleid|postid|p|nid|tinid|idtin)$",
                       re.IGNORECASE)
_NUMBER = re.compile(r"(?:^|[-_.a-z])\d{4,}(?:$|[-_.])", re.IGNORECASE)
_PAGE_PART = re.compile(r"(?:^|[/-])(?:trang|page|p)-?\d+$", re.IGNORECASE)
_SKIP_SCHEMES = ("mailto:", "tel:", "javascript:", "data:", "#", "zalo:", "sms:")
_MEDIA_EXT = re.compile(r"\.(?:jpe?g|png|gif|webp|svg|pdf|docx?|xlsx?|zip|rar|mp[34]|css|js|"
                        r"ico|xml|rss|json)$", re.IGNORECASE)


def absolute(href: str | None, base: str) -> str | None:
    """An http(s) URL for ``href`` on a page at ``base``; None for anything else."""
    if not href:
        return None
    href = href.strip()
    if not href or href.lower().startswith(_SKIP_SCHEMES):
        return None
    url = urljoin(base, href)
    return url.split("#", 1)[0] if url.startswith(("http://", "https://")) else None


def same_site(url: str, other: str) -> bool:
    """The same host, ignoring ``www.`` (a port counts: local sites differ by port)."""
    a, b = urlsplit(url), urlsplit(other)
    return host_of(url) == host_of(other) and (a.port or 0) == (b.port or 0)


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def _slug_words(segment: str) -> list[str]:
    stem = _EXTENSION.sub("", segment)
    return [w for w in re.split(r"[-_]+", stem) if w]


def is_non_article_path(url: str) -> bool:
    """Home, tag, topic, search, contact, feed pages: judged from the URL alone."""
    parts = urlsplit(url)
    if parts.path in HOME_PATHS and not _id_query(parts.query):
        return True
    segments = [_EXTENSION.sub("", s).lower() for s in _segments(parts.path)]
    if any(s in NON_ARTICLE_SEGMENTS for s in segments[:-1]):
        return True
    if segments and segments[-1] in NON_ARTICLE_SEGMENTS:
        return True
    query = dict(parse_qsl(parts.query))
    return bool({"q", "keyword", "tukhoa", "s"} & {k.lower() for k in query})


def _id_query(query: str) -> bool:
    return any(_ID_QUERY.match(k) and v.isdigit() for k, v in parse_qsl(query))


def looks_like_article(url: str, anchor_text: str = "") -> bool:
    """A long slug, an id, or a title-length anchor on a slug: what article links look like."""
    parts = urlsplit(url)
    if _MEDIA_EXT.search(parts.path) or is_non_article_path(url):
        return False
    if _id_query(parts.query):
        return True
    segments = _segments(parts.path)
    if not segments:
        return False
    last = segments[-1]
    if _PAGE_PART.search(_EXTENSION.sub("", last)):
        return False
    words = _slug_words(last)
    has_id = bool(_NUMBER.search(_EXTENSION.sub("", last)))
    if len(words) >= 7 or (len(words) >= 3 and has_id):
        return True
    return len(words) >= 6 and _slug_matches_text(words, anchor_text)


def _slug_matches_text(words: list[str], text: str) -> bool:
    """The slug spells the anchor's title (as article slugs do), in most of its words."""
    title_words = set(re.findall(r"\w+", fold_lower(text)))
    if len(title_words) < 7:
        return False
    hits = sum(1 for w in words if w.lower() in title_words)
    return hits >= 0.8 * len(words)


def looks_like_section(url: str) -> bool:
    """A short slug one or two levels deep: a section (listing) page."""
    parts = urlsplit(url)
    if _MEDIA_EXT.search(parts.path) or is_non_article_path(url) or looks_like_article(url):
        return False
    segments = _segments(parts.path)
    if not 1 <= len(segments) <= 2 or parts.query:
        return False
    return all(1 <= len(_slug_words(s)) <= 4 for s in segments)
