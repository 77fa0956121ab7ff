"""Discovery from a home page, with the network replaced by a dict of pages."""

from __future__ import annotations

import asyncio

import pytest

from crawlers.discovery import Discovery, DiscoveryError, Fetched, discover
from tests.crawlers.sitekit import rss

ROOT = "https://site.vn"


def run(pages: dict[str, tuple[int, str, str]]) -> tuple[Discovery, list[str]]:
    asked: list[str] = []

    async def fetch(url: str) -> Fetched | None:
        asked.append(url)
        if url not in pages:
            return Fetched(url, 404, b"not found", "text/html")
        status, body, content_type = pages[url]
        if status == 0:
            return None
        return Fetched(url, status, body.encode(), content_type)

    return asyncio.run(discover(f"{ROOT}/", fetch)), asked


FEED = rss("Tin", [{"title": "A", "link": f"{ROOT}/tin/a-b-c-d-e-1234.html"}])
HTML = "text/html; charset=utf-8"
XML = "application/rss+xml"


def test_announced_feeds_and_robots_sitemaps() -> None:
    home = (f"<html><head><link rel='alternate' type='application/rss+xml' "
            f"href='/rss/thoi-su.rss'><link rel='alternate' type='application/atom+xml' "
            f"href='{ROOT}/feed.atom'></head><body></body></html>")
    found, asked = run({
        f"{ROOT}/": (200, home, HTML),
        f"{ROOT}/robots.txt": (200, f"User-agent: *\nSitemap: {ROOT}/sitemap.xml\n"
                                     f"sitemap: {ROOT}/sitemap-news.xml\n", "text/plain"),
    })
    assert found.feeds == [f"{ROOT}/rss/thoi-su.rss", f"{ROOT}/feed.atom"]
    assert found.sitemaps == [f"{ROOT}/sitemap.xml", f"{ROOT}/sitemap-news.xml"]
    assert found.listings == []
    assert f"{ROOT}/rss" not in asked            # no probing when the page says it all


def test_rss_index_page_lists_section_feeds() -> None:
    index = ("<html><body><a href='/rss/thoi-su.rss'>Thời sự</a>"
             "<a href='/rss/kinh-te.rss'>Kinh tế</a><a href='/rss/hong.rss'>Hỏng</a></body></html>")
    found, _ = run({
        f"{ROOT}/": (200, "<html><body><a href='/rss'>RSS</a></body></html>", HTML),
        f"{ROOT}/rss": (200, index, HTML),
        f"{ROOT}/rss/thoi-su.rss": (200, FEED, XML),
        f"{ROOT}/rss/kinh-te.rss": (200, FEED, XML),
    })
    assert found.feeds == [f"{ROOT}/rss/thoi-su.rss", f"{ROOT}/rss/kinh-te.rss"]


def test_common_paths_are_probed() -> None:
    sitemap = ("<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
               f"<url><loc>{ROOT}/a.html</loc></url></urlset>")
    found, _ = run({
        f"{ROOT}/": (200, "<html><body>Trang chủ</body></html>", HTML),
        f"{ROOT}/feed": (200, FEED, XML),
        f"{ROOT}/sitemap.xml": (200, sitemap, "application/xml"),
    })
    assert found.feeds == [f"{ROOT}/feed"]
    assert found.sitemaps == [f"{ROOT}/sitemap.xml"]


def test_sections_when_there_is_no_feed_or_sitemap() -> None:
    home = ("<html><body><nav><a href='/tin-tuc/van-hoa/'>Văn hóa</a>"
            "<a href='/tin-tuc/the-thao/'>Thể thao</a><a href='/lien-he/'>Liên hệ</a></nav>"
            "<a href='/tin-tuc/van-hoa/le-hoi-banh-dan-gian-nam-bo-2352.html'>Lễ hội</a>"
            "</body></html>")
    found, _ = run({f"{ROOT}/": (200, home, HTML)})
    assert found.feeds == [] and found.sitemaps == []
    assert found.listings == [f"{ROOT}/", f"{ROOT}/tin-tuc/van-hoa/", f"{ROOT}/tin-tuc/the-thao/"]


@pytest.mark.parametrize("status", [0, 500, 404])
def test_unreachable_home_is_an_error(status: int) -> None:
    with pytest.raises(DiscoveryError, match="home page"):
        run({f"{ROOT}/": (status, "", HTML)})
