"""Section (listing) pages: the article links on them and the link to the next page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from lxml import html as lxml_html

from crawlers.links import absolute, looks_like_article, looks_like_section, same_site
from dophu.text import normalize_text

NEXT_TEXTS = frozenset({"trang sau", "sau", "tiếp", "tiếp theo", "trang tiếp", "xem tiếp",
                        "next", "›", "»", ">", ">>", "››", "→", "xem thêm", "older posts"})
_PAGE_IN_PATH = re.compile(r"(?P<pre>(?:^|[/-])(?:trang|page|p)-?)(?P<n>\d+)(?=$|[./])",
                           re.IGNORECASE)
_PAGE_KEYS = ("page", "trang", "p", "pg", "pageindex", "paged", "currentpage")
MENU_HINT = re.compile(r"nav|menu|header|category|chuyen-muc|danh-muc", re.IGNORECASE)


@dataclass(frozen=True)
class Link:
    url: str
    text: str


def parse_html(text: str) -> lxml_html.HtmlElement:
    """An lxml tree, even for an empty or broken page."""
    try:
        return lxml_html.document_fromstring(text or "<html></html>")
    except (ValueError, lxml_html.etree.ParserError):
        return lxml_html.document_fromstring("<html></html>")


def base_url(tree: lxml_html.HtmlElement, page_url: str) -> str:
    href = tree.xpath("string(//base/@href)")
    return absolute(href, page_url) or page_url


def anchors(tree: lxml_html.HtmlElement, page_url: str) -> list[Link]:
    """Every http(s) anchor on the page, absolute, in page order, first text kept."""
    base = base_url(tree, page_url)
    seen: dict[str, Link] = {}
    for a in tree.iter("a"):
        url = absolute(a.get("href"), base)
        if url is None:
            continue
        text = normalize_text(a.text_content() or a.get("title") or "", multiline=False)
        if url not in seen or (not seen[url].text and text):
            seen[url] = Link(url, text)
    return list(seen.values())


def article_links(tree: lxml_html.HtmlElement, page_url: str) -> list[Link]:
    """Links on this site that look like articles (not sections, tags, pagination)."""
    return [link for link in anchors(tree, page_url)
            if same_site(link.url, page_url) and link.url.rstrip("/") != page_url.rstrip("/")
            and looks_like_article(link.url, link.text)]


def section_links(tree: lxml_html.HtmlElement, page_url: str, limit: int = 12) -> list[str]:
    """Section pages linked from a home page, menu links first."""
    in_menu: list[str] = []
    elsewhere: list[str] = []
    base = base_url(tree, page_url)
    for a in tree.iter("a"):
        url = absolute(a.get("href"), base)
        if url is None or not same_site(url, page_url) or not looks_like_section(url):
            continue
        url = url.rstrip("/") + ("/" if url.endswith("/") else "")
        menu = any(MENU_HINT.search(f"{el.tag} {el.get('class', '')} {el.get('id', '')}")
                   for el in a.iterancestors())
        target = in_menu if menu else elsewhere
        if url not in in_menu and url not in elsewhere:
            target.append(url)
    return (in_menu + elsewhere)[:limit]


def page_number(url: str) -> tuple[int, str] | None:
    """(number, template) when the URL names a page of a listing; template has ``{n}``."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    for index, (key, value) in enumerate(query):
        if key.lower() in _PAGE_KEYS and value.isdigit():
            templ = [*query[:index], (key, "{n}"), *query[index + 1:]]
            encoded = urlencode(templ, safe="{}")
            return int(value), urlunsplit(parts._replace(query=encoded))
    matches = list(_PAGE_IN_PATH.finditer(parts.path))
    if matches:
        m = matches[-1]
        path = parts.path[:m.start("n")] + "{n}" + parts.path[m.end("n"):]
        return int(m.group("n")), urlunsplit(parts._replace(path=path))
    return None


def next_page(tree: lxml_html.HtmlElement, page_url: str) -> str | None:
    """The next page of this listing: rel=next, a "Trang sau" link, or page n+1 in the URL."""
    base = base_url(tree, page_url)
    for href in tree.xpath("//link[@rel='next']/@href | //a[@rel='next']/@href"):
        url = absolute(href, base)
        if url and same_site(url, page_url) and url != page_url:
            return url
    links = [link for link in anchors(tree, page_url) if same_site(link.url, page_url)]
    for link in links:
        if link.text.lower() in NEXT_TEXTS and link.url != page_url and page_number(link.url):
            return link.url
    current = page_number(page_url)
    number = current[0] if current else 1
    for link in links:
        found = page_number(link.url)
        if found is None or found[0] != number + 1:
            continue
        if current is None:
            stem = page_url.rstrip("/").split("?")[0]
            stem = re.sub(r"\.(?:html?|aspx?|php|chn)$", "", stem)
            if link.url.startswith(stem):
                return link.url
        elif found[1] == current[1]:
            return link.url
    return None
