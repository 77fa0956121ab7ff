"""Four local demo websites, each on its own port, for `make demo` and the tests.

No internet is used: a newspaper (feeds, sitemaps), a broadcaster (Atom, YouTube-style
feed), a department portal (listings only, dates in text) and a ward portal with the
quirks real official sites have. Content and ground truth come from demo/manifest.py.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import copy
import hashlib
import json
import re
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jinja2

from .manifest import SITE_IDS, SITES, Article, SiteInfo, articles, weekday_vi

TEMPLATES = Path(__file__).parent / "templates"
_PLAIN_YAML = re.compile(r"^[^\W\d_][\w .:/?=&%()-]*$|^http[\w.:/?=&%-]+$")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"}
HTML = "text/html; charset=utf-8"


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str | None = HTML
    headers: dict[str, str] = field(default_factory=dict)
    last_modified: datetime | None = None
    delay: float = 0.0


def http_date(dt: datetime) -> str:
    return format_datetime(dt.astimezone(UTC), usegmt=True)


def encode_cp1258(text: str) -> bytes:
    """Encode Vietnamese as windows-1258 does: base letter plus combining tone mark."""
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        base, *marks = unicodedata.normalize("NFD", ch)
        for m in marks:
            comp = unicodedata.normalize("NFC", base + m)
            if len(comp) == 1:
                try:
                    comp.encode("cp1258")
                except UnicodeEncodeError:
                    continue
                base = comp
                marks.remove(m)
                break
        out += (base + "".join(marks)).encode("cp1258", errors="xmlcharrefreplace")
    return bytes(out)


def _short_id(seed: str, n: int) -> str:
    digest = hashlib.sha1(seed.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:n]


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        trim_blocks=False,
        keep_trailing_newline=True,
    )


def _page(query: Mapping[str, list[str]]) -> int | None:
    raw = query.get("page", ["1"])[0]
    return int(raw) if raw.isdigit() and int(raw) >= 1 else None


def _paginate(items: list, page: int, per_page: int) -> tuple[list, int] | None:
    pages = max(1, -(-len(items) // per_page))
    if page > pages:
        return None
    return items[(page - 1) * per_page : page * per_page], pages


class Site:
    """One demo website: routes a path to a Response."""

    theme_color = "#0b5394"
    nav: list[dict] = []

    def __init__(self, info: SiteInfo, env: jinja2.Environment, slow_seconds: float):
        self.info = info
        self.env = env
        self.slow_seconds = slow_seconds
        self.base = ""  # "http://host:port", set once bound
        self.items: list[Article] = sorted(articles(info.id), key=lambda a: a.published)
        self.newest_first = list(reversed(self.items))
        self.by_path = {a.path: a for a in self.items}

    @property
    def id(self) -> str:
        return self.info.id

    def url(self, path: str) -> str:
        return self.base + path

    # rendering helpers
    def render(self, template: str, **ctx) -> str:
        ctx.setdefault("site", self.info)
        ctx.setdefault("base", self.base)
        ctx.setdefault("nav", self.nav)
        ctx.setdefault("theme_color", self.theme_color)
        return self.env.get_template(template).render(**ctx)

    def html(self, template: str, last_modified: datetime | None = None, **ctx) -> Response:
        body = self.render(template, **ctx).encode("utf-8")
        return Response(body=body, last_modified=last_modified)

    def xml(self, template: str, content_type: str, last_modified: datetime | None,
            **ctx) -> Response:
        body = self.render(template, **ctx).encode("utf-8")
        return Response(body=body, content_type=content_type, last_modified=last_modified)

    def text(self, body: str) -> Response:
        return Response(body=body.encode("utf-8"), content_type="text/plain; charset=utf-8")

    def not_found(self) -> Response:
        return Response(status=404, body=self.render("not_found.html").encode("utf-8"))

    def server_error(self) -> Response:
        return Response(status=500, body=self.render("server_error.html").encode("utf-8"))

    def related(self, a: Article, pool: list[Article] | None = None, n: int = 5) -> list[Article]:
        pool = pool if pool is not None else self.newest_first
        others = [r for r in pool if r.path != a.path]
        others.sort(key=lambda r: abs((r.published - a.published).total_seconds()))
        return sorted(others[:n], key=lambda r: r.published, reverse=True)

    # routing
    def robots(self) -> str:
        return "User-agent: *\nAllow: /\n"

    def handle(self, path: str, query: Mapping[str, list[str]]) -> Response:
        if path == "/robots.txt":
            return self.text(self.robots())
        return self.route(path, query) or self.not_found()

    def route(self, path: str, query: Mapping[str, list[str]]) -> Response | None:
        raise NotImplementedError


class NewspaperSite(Site):
    """demo-baocantho: section RSS feeds, one RDF feed, sitemap index, news sitemap."""

    theme_color = "#b71c1c"
    SECTIONS = {
        "thoi-su": "Thời sự",
        "chinh-tri": "Chính trị",
        "kinh-te": "Kinh tế",
        "xa-hoi": "Xã hội",
        "the-thao": "Thể thao",
    }
    PER_PAGE = 10

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.nav = [{"href": "/", "label": "Trang chủ"}] + [
            {"href": f"/{k}/", "label": v} for k, v in self.SECTIONS.items()
        ]
        # some feed links carry tracking parameters, the canonical stays clean
        self.tracked = {a.path for i, a in enumerate(self.items) if i % 3 == 0}

    def section(self, sid: str) -> dict:
        return {"id": sid, "name": self.SECTIONS[sid]}

    def feed_link(self, a: Article) -> str:
        if a.path in self.tracked:
            return self.url(a.path) + "?utm_source=rss&utm_medium=feed"
        return self.url(a.path)

    def months(self) -> dict[str, list[Article]]:
        out: dict[str, list[Article]] = {}
        for a in self.items:
            out.setdefault(a.published.strftime("%Y-%m"), []).append(a)
        return out

    def route(self, path, query):
        if path == "/":
            return self.home()
        if path.startswith("/rss/") and path.endswith(".rss"):
            sid = path[5:-4]
            return self.section_feed(sid) if sid in self.SECTIONS else None
        if path == "/rss/tin-moi.rdf":
            return self.rdf_feed()
        if path == "/sitemap.xml":
            return self.sitemap_index()
        if path.startswith("/sitemaps/articles-") and path.endswith(".xml"):
            return self.sitemap_month(path[len("/sitemaps/articles-") : -4])
        if path == "/sitemap-news.xml":
            return self.news_sitemap()
        if path == "/tim-kiem":
            return self.search(query.get("tu-khoa", [""])[0])
        parts = path.strip("/").split("/")
        if path.endswith("/") and len(parts) == 1 and parts[0] in self.SECTIONS:
            return self.section_page(parts[0], query)
        if path in self.by_path:
            return self.article(self.by_path[path])
        return None

    def robots(self):
        return (
            "User-agent: *\nAllow: /\nDisallow: /tim-kiem\n\n"
            f"Sitemap: {self.url('/sitemap.xml')}\nSitemap: {self.url('/sitemap-news.xml')}\n"
        )

    def home(self):
        feeds = [
            {"type": "application/rss+xml", "title": name, "href": f"/rss/{sid}.rss"}
            for sid, name in self.SECTIONS.items()
        ]
        feeds.append(
            {"type": "application/rss+xml", "title": "Tin mới", "href": "/rss/tin-moi.rdf"}
        )
        sections = [
            {**self.section(sid), "stories": [a for a in self.newest_first if a.section == sid][:5]}
            for sid in self.SECTIONS
        ]
        return self.html("bct_home.html", feeds=feeds, latest=self.newest_first[:12],
                         sections=sections)

    def section_page(self, sid, query):
        page = _page(query)
        pool = [a for a in self.newest_first if a.section == sid]
        got = _paginate(pool, page, self.PER_PAGE) if page else None
        if got is None:
            return None
        items, pages = got

        def page_url(n: int) -> str:
            return f"/{sid}/" if n == 1 else f"/{sid}/?page={n}"

        return self.html("bct_section.html", section=self.section(sid), items=items,
                         page=page, pages=pages, page_url=page_url)

    def article(self, a):
        pool = [r for r in self.newest_first if r.section == a.section]
        return self.html("bct_article.html", last_modified=a.updated, a=a,
                         section=self.section(a.section), weekday=weekday_vi(a.published),
                         related=self.related(a, pool))

    def search(self, q):
        items = [a for a in self.newest_first if q and q in a.tags]
        return self.html("bct_search.html", q=q, items=items)

    def _rss_items(self, items):
        return [
            {
                "title": a.title, "link": self.feed_link(a), "guid": self.url(a.path),
                "guid_permalink": True, "description": a.lead,
                "pub_date": format_datetime(a.published), "category": self.SECTIONS[a.section],
                "author": a.author,
            }
            for a in items
        ]

    def section_feed(self, sid):
        items = [a for a in self.newest_first if a.section == sid][:20]
        last = max(a.updated for a in items)
        return self.xml(
            "rss2.xml", "application/rss+xml; charset=utf-8", last,
            title=f"{self.SECTIONS[sid]} - {self.info.name}",
            description=f"Tin {self.SECTIONS[sid].lower()} của {self.info.name}",
            last_build=format_datetime(last), self_url=self.url(f"/rss/{sid}.rss"),
            items=self._rss_items(items),
        )

    def rdf_feed(self):
        items = self.newest_first[:20]
        last = max(a.updated for a in items)
        return self.xml(
            "rdf.xml", "application/rdf+xml; charset=utf-8", last,
            title=f"Tin mới - {self.info.name}", description="Tin mới nhất",
            self_url=self.url("/rss/tin-moi.rdf"), updated=last.isoformat(),
            items=[
                {"title": a.title, "link": self.feed_link(a), "description": a.lead,
                 "date": a.published.isoformat(), "category": self.SECTIONS[a.section],
                 "author": a.author}
                for a in items
            ],
        )

    def sitemap_index(self):
        months = self.months()
        maps = [
            {"loc": self.url(f"/sitemaps/articles-{m}.xml"),
             "lastmod": max(a.updated for a in items).isoformat()}
            for m, items in sorted(months.items())
        ]
        last = max(a.updated for a in self.items)
        return self.xml("sitemap_index.xml", "application/xml; charset=utf-8", last,
                        sitemaps=maps)

    def sitemap_month(self, month):
        items = self.months().get(month)
        if not items:
            return None
        urls = [{"loc": self.url(a.path), "lastmod": a.updated.isoformat()} for a in items]
        return self.xml("sitemap_urls.xml", "application/xml; charset=utf-8",
                        max(a.updated for a in items), urls=urls)

    def news_sitemap(self):
        items = self.newest_first[:10]
        urls = [
            {"loc": self.url(a.path), "date": a.published.isoformat(), "title": a.title,
             "keywords": ", ".join(a.tags)}
            for a in items
        ]
        return self.xml("sitemap_news.xml", "application/xml; charset=utf-8",
                        max(a.updated for a in items), urls=urls)


class BroadcasterSite(Site):
    """demo-canthotv: an Atom feed, a YouTube-style channel feed, video pages."""

    theme_color = "#1565c0"
    CHANNEL_ID = "UC" + _short_id("demo-canthotv-channel", 22)
    PER_PAGE = 12

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.nav = [
            {"href": "/", "label": "Trang chủ"},
            {"href": "/tin-tuc/", "label": "Tin tức"},
            {"href": "/video/", "label": "Video"},
        ]
        self.videos = [a for a in self.newest_first if a.kind == "video"]
        self.news = [a for a in self.newest_first if a.kind != "video"]

    @property
    def youtube_feed_url(self) -> str:
        return self.url(f"/youtube/feeds/videos.xml?channel_id={self.CHANNEL_ID}")

    @staticmethod
    def video_id(a: Article) -> str:
        return _short_id(a.key, 11)

    def route(self, path, query):
        if path == "/":
            return self.html("tv_home.html", videos=self.videos[:8], news=self.news[:8],
                             youtube_feed=self.youtube_feed_url)
        if path == "/tin-tuc/":
            return self.listing("Tin tức", self.news, path, query)
        if path == "/video/":
            return self.listing("Video", self.videos, path, query)
        if path == "/feed.atom":
            return self.atom()
        if path == "/youtube/feeds/videos.xml":
            return self.youtube()
        a = self.by_path.get(path)
        if a is None:
            return None
        ld = {
            "@context": "https://schema.org",
            "@type": "VideoObject" if a.kind == "video" else "NewsArticle",
            ("name" if a.kind == "video" else "headline"): a.title,
            ("uploadDate" if a.kind == "video" else "datePublished"): a.published.isoformat(),
            "publisher": {"@type": "Organization", "name": self.info.name},
        }
        if a.kind != "video":
            ld["dateModified"] = a.updated.isoformat()
        ld_json = json.dumps(ld, ensure_ascii=False).replace("</", "<\\/")
        if a.kind == "video":
            return self.html("tv_video.html", last_modified=a.updated, a=a,
                             video_id=self.video_id(a), ld_json=ld_json,
                             related=self.related(a, self.videos))
        return self.html("tv_article.html", last_modified=a.updated, a=a, ld_json=ld_json,
                         related=self.related(a, self.news))

    def listing(self, heading, pool, path, query):
        page = _page(query)
        got = _paginate(pool, page, self.PER_PAGE) if page else None
        if got is None:
            return None
        items, pages = got

        def page_url(n: int) -> str:
            return path if n == 1 else f"{path}?page={n}"

        return self.html("tv_list.html", heading=heading, items=items, page=page, pages=pages,
                         page_url=page_url)

    def atom(self):
        items = self.newest_first[:30]
        last = max(a.updated for a in items)
        entries = [
            {"id": f"tag:canthotv.demo,{a.published:%Y-%m-%d}:{a.key}", "title": a.title,
             "link": self.url(a.path), "published": a.published.isoformat(),
             "updated": a.updated.isoformat(), "summary": a.lead, "categories": list(a.tags)}
            for a in items
        ]
        return self.xml("atom.xml", "application/atom+xml; charset=utf-8", last,
                        title=self.info.name, description="Tin tức và video mới nhất",
                        self_url=self.url("/feed.atom"), updated=last.isoformat(),
                        items=entries)

    def youtube(self):
        items = self.videos[:15]  # a channel feed carries the 15 newest uploads
        last = max(a.updated for a in items)
        entries = []
        for a in items:
            vid = self.video_id(a)
            entries.append({
                "video_id": vid, "title": a.title, "link": self.url(a.path),
                "published": a.published.isoformat(), "updated": a.updated.isoformat(),
                "description": "\n\n".join((a.lead, *a.body)),
                "likes": 10 + int(hashlib.sha1(vid.encode()).hexdigest()[:2], 16),
                "views": 300 + int(hashlib.sha1(vid.encode()).hexdigest()[2:5], 16),
            })
        return self.xml("youtube.xml", "application/atom+xml; charset=utf-8", last,
                        channel_id=self.CHANNEL_ID, self_url=self.youtube_feed_url,
                        channel_published="2012-03-15T02:00:00+00:00", items=entries)


class DepartmentSite(Site):
    """demo-sovhttdl: no feed, no sitemap; listings with pagination; dates only in text."""

    theme_color = "#2e7d32"
    SECTIONS = {
        "tin-hoat-dong": "Tin hoạt động",
        "van-hoa": "Văn hóa",
        "the-thao": "Thể thao",
        "du-lich": "Du lịch",
        "gia-dinh": "Gia đình",
    }
    PER_PAGE = 8
    PAGES = {
        "/gioi-thieu/": ("Giới thiệu chung",
                         "Sở Văn hóa, Thể thao và Du lịch là cơ quan chuyên môn thuộc UBND "
                         "thành phố Cần Thơ, tham mưu quản lý nhà nước về văn hóa, gia đình, "
                         "thể dục thể thao và du lịch."),
        "/thu-tuc-hanh-chinh/": ("Thủ tục hành chính",
                                 "Tra cứu danh mục thủ tục hành chính thuộc thẩm quyền giải "
                                 "quyết của Sở."),
        "/lien-he/": ("Liên hệ",
                      "Địa chỉ: thành phố Cần Thơ. Điện thoại: 0292 000 0000. "
                      "Thư điện tử: sovhttdl@example.invalid"),
    }

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.nav = [{"href": "/", "label": "Trang chủ"}, {"href": "/gioi-thieu/",
                                                         "label": "Giới thiệu"}]
        self.nav += [{"href": f"/tin-tuc/{k}/", "label": v} for k, v in self.SECTIONS.items()]
        self.nav += [{"href": "/thu-tuc-hanh-chinh/", "label": "Thủ tục hành chính"},
                     {"href": "/lien-he/", "label": "Liên hệ"}]

    def sections(self):
        return [{"id": k, "name": v} for k, v in self.SECTIONS.items()]

    def robots(self):
        return "User-agent: *\nDisallow:\n"

    def route(self, path, query):
        if path == "/":
            return self.html("so_home.html", latest=self.newest_first[:8],
                             sections=self.sections())
        if path in self.PAGES:
            heading, text = self.PAGES[path]
            links = [{"href": f"/tin-tuc/{k}/", "label": v} for k, v in self.SECTIONS.items()]
            return self.html("so_page.html", heading=heading, text=text, links=links)
        parts = path.strip("/").split("/")
        if (path.endswith("/") and len(parts) == 2 and parts[0] == "tin-tuc"
                and parts[1] in self.SECTIONS):
            return self.listing(parts[1], query)
        a = self.by_path.get(path)
        if a is None:
            return None
        pool = [r for r in self.newest_first if r.section == a.section]
        return self.html("so_article.html", last_modified=a.updated, a=a,
                         section={"id": a.section, "name": self.SECTIONS[a.section]},
                         related=self.related(a, pool))

    def listing(self, sid, query):
        pool = self.newest_first if sid == "tin-hoat-dong" else [
            a for a in self.newest_first if a.section == sid
        ]
        page = _page(query)
        got = _paginate(pool, page, self.PER_PAGE) if page else None
        if got is None:
            return None
        items, pages = got

        def page_url(n: int) -> str:
            return f"/tin-tuc/{sid}/" if n == 1 else f"/tin-tuc/{sid}/?page={n}"

        return self.html("so_list.html", section={"id": sid, "name": self.SECTIONS[sid]},
                         sections=self.sections(), items=items, page=page, pages=pages,
                         page_url=page_url)


class WardSite(Site):
    """demo-phuongninhkieu: a small ward portal with the quirks crawlers meet in practice."""

    theme_color = "#c62828"
    PER_PAGE = 10

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.nav = [
            {"href": "/", "label": "Trang chủ"},
            {"href": "/tin-tuc/", "label": "Tin tức - Sự kiện"},
        ]
        self.by_old_path = {a.old_path: a for a in self.items if a.old_path}
        self.public = [a for a in self.newest_first if a.quirk != "disallowed"]
        self.internal = [a for a in self.newest_first if a.quirk == "disallowed"]

    def link(self, a: Article) -> dict:
        return {"href": a.old_path or a.path, "title": a.title,
                "date": a.published.strftime("%d/%m/%Y")}

    def robots(self):
        return "User-agent: *\nDisallow: /noi-bo/\n"

    def route(self, path, query):
        if path == "/":
            return self.html("pnk_home.html", latest=[self.link(a) for a in self.public[:12]],
                             internal=[self.link(a) for a in self.internal])
        if path == "/tin-tuc/":
            return self.listing(query)
        if path == "/rss.xml":
            return self.rss()
        if path in self.by_old_path:
            target = self.url(self.by_old_path[path].path)
            body = f'<html><body>Moved: <a href="{target}">{target}</a></body></html>'
            return Response(status=301, body=body.encode(), headers={"Location": target})
        a = self.by_path.get(path)
        return self.article(a) if a else None

    def listing(self, query):
        page = _page(query)
        got = _paginate([self.link(a) for a in self.public], page, self.PER_PAGE) if page else None
        if got is None:
            return None
        items, pages = got

        def page_url(n: int) -> str:
            return "/tin-tuc/" if n == 1 else f"/tin-tuc/?page={n}"

        return self.html("pnk_list.html", items=items, page=page, pages=pages,
                         page_url=page_url)

    def rss(self):
        items = self.public[:20]
        last = max(a.updated for a in items)
        rows = [
            {
                "title": a.title, "link": self.url(a.old_path or a.path),
                "guid": self.url(a.old_path or a.path), "guid_permalink": True,
                "description": a.lead, "pub_date": format_datetime(a.published),
                # the portal's CMS forgets to escape '&' in titles: the feed is not
                # well-formed XML, lenient parsers still read it
                "raw_title": "&" in a.title,
            }
            for a in items
        ]
        return self.xml(
            "rss2.xml", "application/rss+xml; charset=utf-8", last,
            title="Tin tức - Cổng thông tin phường Ninh Kiều",
            description="Tin tức, sự kiện phường Ninh Kiều", last_build=format_datetime(last),
            self_url=self.url("/rss.xml"), items=rows,
        )

    def article(self, a: Article) -> Response:
        if a.quirk == "error500":
            return self.server_error()
        views = 100 + int(hashlib.sha1(a.key.encode()).hexdigest()[:3], 16)
        ctx = {"a": a, "views": views}
        if a.quirk == "mislabelled":
            # bytes in windows-1258, but both header and meta claim utf-8
            html = self.render("pnk_article.html", meta_charset="utf-8", **ctx)
            return Response(body=encode_cp1258(html), last_modified=a.updated)
        if a.quirk == "cp1258":
            html = self.render("pnk_article.html", meta_charset="windows-1258", **ctx)
            return Response(body=encode_cp1258(html), last_modified=a.updated,
                            content_type="text/html; charset=windows-1258")
        html = self.render("pnk_article.html", **ctx)
        if a.quirk == "nfd":
            html = unicodedata.normalize("NFD", html)
        resp = Response(body=html.encode("utf-8"), last_modified=a.updated)
        if a.quirk == "slow":
            resp.delay = self.slow_seconds
        return resp


SITE_CLASSES: dict[str, type[Site]] = {
    "demo-baocantho": NewspaperSite,
    "demo-canthotv": BroadcasterSite,
    "demo-sovhttdl": DepartmentSite,
    "demo-phuongninhkieu": WardSite,
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "DemoSite/1.0"
    timeout = 15  # idle keep-alive connections are dropped

    def log_message(self, format, *args):  # noqa: A002 - keep the test output quiet
        pass

    def do_GET(self):
        self._serve(head=False)

    def do_HEAD(self):
        self._serve(head=True)

    def _not_modified(self, etag: str, last_modified: datetime | None) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            tags = [t.strip() for t in inm.split(",")]
            return "*" in tags or etag in tags or f"W/{etag}" in tags
        ims = self.headers.get("If-Modified-Since")
        if ims and last_modified is not None:
            try:
                since = parsedate_to_datetime(ims)
            except (TypeError, ValueError):
                return False
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
            return last_modified.replace(microsecond=0) <= since
        return False

    def _serve(self, head: bool) -> None:
        site: Site = self.server.site  # type: ignore[attr-defined]
        demo: DemoSites = self.server.demo  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        try:
            resp = site.handle(parts.path, parse_qs(parts.query, keep_blank_values=True))
        except Exception:  # a bug in the demo must not hang the crawler
            resp = site.server_error()
        if resp.delay:
            time.sleep(resp.delay)
        status = resp.status
        etag = None
        if status == 200:
            etag = '"' + hashlib.sha1(resp.body).hexdigest()[:20] + '"'
            if self._not_modified(etag, resp.last_modified):
                status = 304
        demo._record(site.id, self.path, status)
        self.send_response(status)
        if resp.content_type and status != 304:
            self.send_header("Content-Type", resp.content_type)
        for k, v in resp.headers.items():
            self.send_header(k, v)
        if etag:
            self.send_header("ETag", etag)
        if resp.last_modified is not None and status in (200, 304):
            self.send_header("Last-Modified", http_date(resp.last_modified))
        if status != 304:
            self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        if not head and status != 304:
            self.wfile.write(resp.body)


class DemoSites:
    """Serve the four demo sites from this process, one port each.

    >>> with DemoSites() as demo:
    ...     demo.urls["demo-baocantho"]  # 'http://127.0.0.1:PORT/'
    """

    def __init__(self, host: str = "127.0.0.1",
                 ports: Mapping[str, int] | Sequence[int] | None = None,
                 slow_seconds: float = 3.0):
        self.host = host
        if ports is None:
            self._ports = dict.fromkeys(SITE_IDS, 0)
        elif isinstance(ports, Mapping):
            self._ports = {sid: int(ports.get(sid, 0)) for sid in SITE_IDS}
        else:
            self._ports = dict(zip(SITE_IDS, (int(p) for p in ports), strict=True))
        self.slow_seconds = slow_seconds
        self._servers: dict[str, ThreadingHTTPServer] = {}
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._stats: dict[str, dict] = {}
        self.reset_stats()
        env = _env()
        self.sites: dict[str, Site] = {
            sid: SITE_CLASSES[sid](SITES[sid], env, slow_seconds) for sid in SITE_IDS
        }

    # lifecycle
    def start(self) -> DemoSites:
        if self._servers:
            return self
        url_host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        try:
            for sid, site in self.sites.items():
                srv = ThreadingHTTPServer((self.host, self._ports[sid]), _Handler)
                srv.daemon_threads = True
                srv.site = site  # type: ignore[attr-defined]
                srv.demo = self  # type: ignore[attr-defined]
                site.base = f"http://{url_host}:{srv.server_address[1]}"
                self._servers[sid] = srv
        except OSError:
            self.stop()
            raise
        for sid, srv in self._servers.items():
            t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1},
                                 name=f"demo-{sid}", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> None:
        for srv in self._servers.values():
            if any(t.is_alive() for t in self._threads):
                srv.shutdown()
            srv.server_close()
        for t in self._threads:
            t.join(timeout=5)
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> DemoSites:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # information
    @property
    def urls(self) -> dict[str, str]:
        return {sid: site.base + "/" for sid, site in self.sites.items()}

    @property
    def ports(self) -> dict[str, int]:
        return {sid: srv.server_address[1] for sid, srv in self._servers.items()}

    def url(self, site_id: str, path: str = "/") -> str:
        return self.sites[site_id].base + path

    def _record(self, site_id: str, path: str, status: int) -> None:
        with self._lock:
            s = self._stats[site_id]
            s["requests"] += 1
            s["paths"][path] += 1
            s["status"][status] += 1
            if status == 304:
                s["not_modified"] += 1

    @property
    def stats(self) -> dict[str, dict]:
        """Per site: requests, not_modified (304s), counts per path and per status."""
        with self._lock:
            snap = copy.deepcopy(self._stats)
        return {
            sid: {**s, "paths": dict(s["paths"]), "status": dict(s["status"])}
            for sid, s in snap.items()
        }

    def requests_to(self, site_id: str, prefix: str) -> int:
        """How many requests a site got for paths starting with `prefix`."""
        with self._lock:
            return sum(n for p, n in self._stats[site_id]["paths"].items()
                       if p.startswith(prefix))

    def reset_stats(self) -> None:
        with self._lock:
            self._stats = {
                sid: {"requests": 0, "not_modified": 0, "paths": Counter(), "status": Counter()}
                for sid in SITE_IDS
            }

    def sources(self) -> list[dict]:
        """The four sources, in the sources.yaml form of docs/interface.md."""
        out = []
        for sid, site in self.sites.items():
            feeds: list[str] = []
            if isinstance(site, BroadcasterSite):
                feeds = [site.url("/feed.atom"), site.youtube_feed_url]
            out.append({
                "id": sid, "name": site.info.name, "unit": site.info.unit,
                "kind": site.info.kind, "home": site.base + "/", "feeds": feeds,
                "sitemaps": [], "listings": [], "interval": "30m", "enabled": True,
            })
        return out

    def write_sources_yaml(self, path: str | Path) -> Path:
        def scalar(v) -> str:
            if isinstance(v, bool):
                return "true" if v else "false"
            if _PLAIN_YAML.match(v) and v.lower() not in _YAML_WORDS:
                return v
            return json.dumps(v, ensure_ascii=False)  # a JSON string is a YAML string

        lines = ["# Demo sources served by demo.server (local ports, no internet).", "sources:"]
        for src in self.sources():
            first = True
            for k, v in src.items():
                lead = "  - " if first else "    "
                first = False
                if isinstance(v, list):
                    if not v:
                        lines.append(f"{lead}{k}: []")
                    else:
                        lines.append(f"{lead}{k}:")
                        lines.extend(f"      - {scalar(x)}" for x in v)
                else:
                    lines.append(f"{lead}{k}: {scalar(v)}")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path


def main(argv: Sequence[str] | None = None,
         wait: Callable[[], None] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m demo.server", description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--base-port", type=int, default=8701,
                    help="first port; the sites use this and the next three (0: any free)")
    ap.add_argument("--slow-seconds", type=float, default=3.0)
    ap.add_argument("--sources-out", metavar="FILE", help="write a sources.yaml for the sites")
    args = ap.parse_args(argv)
    ports = None if args.base_port == 0 else [args.base_port + i for i in range(len(SITE_IDS))]
    with DemoSites(args.host, ports, args.slow_seconds) as demo:
        for sid, url in demo.urls.items():
            print(f"{sid:22s} {url}", flush=True)
        if args.sources_out:
            print(f"sources written to {demo.write_sources_yaml(args.sources_out)}", flush=True)
        print("Serving; Ctrl-C to stop.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            (wait or _forever)()
    return 0


def _forever() -> None:
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    raise SystemExit(main())
