"""A small local website for crawler tests: pages by path, ETag/Last-Modified, a request log.

Runs on pytest-httpserver (threaded, so a slow page does not hold up the others).
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

HTML = "text/html; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
XML = "application/xml; charset=utf-8"


@dataclass
class Page:
    body: bytes
    content_type: str = HTML
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    validators: bool = True          # answer conditional requests with 304
    fail_first: int = 0              # answer the first N requests with fail_status instead
    fail_status: int = 503
    fail_headers: dict[str, str] = field(default_factory=dict)
    served: int = 0


@dataclass
class Hit:
    path: str
    status: int
    conditional: bool
    user_agent: str


class Site:
    """One site on its own port: ``add(path, body)``, then ``url(path)``; ``hits`` records."""

    def __init__(self) -> None:
        self.server = HTTPServer(host="127.0.0.1", threaded=True)
        self.server.no_handler_status_code = 404
        self.pages: dict[str, Page] = {}
        self.hits: list[Hit] = []
        self.server.expect_request(re.compile(".*")).respond_with_handler(self._handle)
        self.server.start()

    def stop(self) -> None:
        self.server.clear()
        if self.server.is_running():
            self.server.stop()

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def url(self, path: str) -> str:
        return self.root + path

    def add(self, path: str, body: str | bytes, content_type: str = HTML, **kwargs: object
            ) -> str:
        raw = body.encode("utf-8") if isinstance(body, str) else body
        self.pages[path] = Page(raw, content_type, **kwargs)  # type: ignore[arg-type]
        return self.url(path)

    def _handle(self, request: Request) -> Response:
        path = request.full_path.rstrip("?")
        page = self.pages.get(path) or self.pages.get(request.path)
        conditional = bool(request.headers.get("If-None-Match")
                           or request.headers.get("If-Modified-Since"))
        agent = request.headers.get("User-Agent", "")
        if page is None:
            self.hits.append(Hit(path, 404, conditional, agent))
            return Response(b"not found", status=404, content_type="text/plain")
        page.served += 1
        if page.served <= page.fail_first:
            self.hits.append(Hit(path, page.fail_status, conditional, agent))
            return Response(b"busy", status=page.fail_status, headers=page.fail_headers,
                            content_type="text/plain")
        if page.delay:
            time.sleep(page.delay)
        etag = '"' + hashlib.sha1(page.body).hexdigest()[:16] + '"'
        headers = dict(page.headers)
        if page.validators and page.status == 200:
            headers["ETag"] = etag
            if request.headers.get("If-None-Match") == etag:
                self.hits.append(Hit(path, 304, conditional, agent))
                return Response(status=304, headers=headers)
        self.hits.append(Hit(path, page.status, conditional, agent))
        return Response(page.body, status=page.status, headers=headers,
                        content_type=page.content_type)

    def paths(self, status: int | None = None) -> list[str]:
        return [h.path for h in self.hits if status is None or h.status == status]


# ---------------------------------------------------------------- page makers

LOREM = ("Thành phố Cần Thơ tổ chức nhiều hoạt động thiết thực chào mừng kỷ niệm 50 năm Ngày "
         "giải phóng miền Nam, thống nhất đất nước, với sự tham gia của đông đảo cán bộ, "
         "đảng viên và nhân dân trên địa bàn.")


def paragraphs(topic: str, count: int = 5) -> list[str]:
    return [f"{topic}: đoạn {i + 1}. {LOREM} Nội dung riêng số {i + 1} về {topic.lower()}."
            for i in range(count)]


def article_page(title: str, body: list[str], *, date_text: str | None = None,
                 published_meta: str | None = None, canonical: str | None = None,
                 head: str = "", charset: str = "utf-8", related: list[tuple[str, str]] = ()
                 ) -> str:
    metas = f'<meta charset="{charset}">'
    if published_meta:
        metas += f'<meta property="article:published_time" content="{published_meta}">'
    if canonical:
        metas += f'<link rel="canonical" href="{canonical}">'
    date = f'<div class="post-date">{date_text}</div>' if date_text else ""
    paras = "".join(f"<p>{p}</p>" for p in body)
    links = "".join(f'<li><a href="{href}">{text}</a></li>' for href, text in related)
    return (f"<!doctype html><html lang='vi'><head>{metas}<title>{title}</title>{head}</head>"
            f"<body><header><nav><a href='/'>Trang chủ</a></nav></header>"
            f"<main><article><h1>{title}</h1>{date}<div class='content'>{paras}</div>"
            f"</article><aside><ul>{links}</ul></aside></main>"
            f"<footer>Cổng thông tin điện tử</footer></body></html>")


def listing_page(title: str, links: list[tuple[str, str, str]], next_href: str | None = None
                 ) -> str:
    """links: (href, anchor text, date text)."""
    rows = "".join(f'<li><a href="{href}">{text}</a> <span class="date">{date}</span></li>'
                   for href, text, date in links)
    pager = f'<div class="pager"><a href="{next_href}">Trang sau</a></div>' if next_href else ""
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body><h1>{title}</h1><ul class='list'>{rows}</ul>{pager}</body></html>")


def rss(title: str, entries: list[dict[str, str]]) -> str:
    items = "".join(
        "<item>" + "".join(f"<{k}>{v}</{k}>" for k, v in entry.items()) + "</item>"
        for entry in entries)
    return (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
            f"<title>{title}</title><link>http://example.invalid/</link>{items}"
            f"</channel></rss>")
