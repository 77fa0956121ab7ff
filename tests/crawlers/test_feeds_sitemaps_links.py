"""Feeds (RSS 2.0, RSS 1.0, Atom, YouTube), sitemaps (index, news, gzip) and link judgement."""

from __future__ import annotations

import gzip
from datetime import datetime

import pytest

from crawlers.feeds import parse_feed
from crawlers.links import is_non_article_path, looks_like_article, looks_like_section
from crawlers.listings import next_page, page_number, parse_html
from crawlers.sitemaps import parse_sitemap

RSS2 = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Thời sự - Báo Cần Thơ</title>
<item><title>Khai mạc Đại hội</title><link>https://bct.vn/thoi-su/khai-mac-dai-hoi-a1.html</link>
<description>&lt;p&gt;Sáng nay, &lt;b&gt;Đại hội&lt;/b&gt; khai mạc.&lt;/p&gt;</description>
<pubDate>Mon, 28 Apr 2025 08:15:00 +0700</pubDate><category>Chính trị</category>
<author>Hoàng Lan</author></item>
<item><title>Không ngày</title><link>/thoi-su/khong-ngay-a2.html</link></item>
</channel></rss>"""

RDF = """<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://bct.vn/rss/tin-moi.rdf"><title>Tin mới</title></channel>
<item rdf:about="https://bct.vn/a3.html"><title>Tin RDF</title><link>https://bct.vn/a3.html</link>
<description>Mô tả</description><dc:date>2025-04-28T08:15:00+07:00</dc:date></item>
</rdf:RDF>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Đài Cần Thơ</title>
<entry><id>tag:x,2025:1</id><title>Bản tin</title><link href="https://tv.vn/tin/ban-tin-1.html"/>
<published>2025-04-28T01:15:00Z</published><updated>2025-04-29T01:15:00Z</updated>
<summary>Tóm tắt bản tin</summary><category term="Thời sự"/></entry></feed>"""

YOUTUBE = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" xmlns:media="http://search.yahoo.com/mrss/"
 xmlns="http://www.w3.org/2005/Atom"><title>Kênh</title>
<entry><id>yt:video:abc</id><yt:videoId>abc</yt:videoId><title>Phóng sự 50 năm</title>
<link rel="alternate" href="https://www.youtube.com/watch?v=abc"/>
<published>2025-04-28T01:15:00+00:00</published><updated>2025-04-28T02:00:00+00:00</updated>
<media:group><media:title>Phóng sự 50 năm</media:title>
<media:description>Phóng sự về lễ kỷ niệm 50 năm Ngày giải phóng miền Nam.</media:description>
</media:group></entry></feed>"""


def test_rss2_entries_with_their_fields() -> None:
    feed = parse_feed(RSS2.encode(), "https://bct.vn/rss/thoi-su.rss")
    assert feed.error is None and feed.version == "rss20"
    first, second = feed.entries
    assert first.title == "Khai mạc Đại hội"
    assert first.summary == "Sáng nay, Đại hội khai mạc."
    assert first.published_at == datetime.fromisoformat("2025-04-28T08:15:00+07:00")
    assert first.tags == ["Chính trị"] and first.author == "Hoàng Lan"
    assert second.url == "https://bct.vn/thoi-su/khong-ngay-a2.html"   # relative link resolved
    assert second.published_at is None and not second.standalone


def test_rss1_and_atom() -> None:
    rdf = parse_feed(RDF.encode(), "https://bct.vn/rss/tin-moi.rdf")
    assert rdf.version.startswith("rss1") or rdf.version == "rss10"
    assert rdf.entries[0].published_at == datetime.fromisoformat("2025-04-28T08:15:00+07:00")
    atom = parse_feed(ATOM.encode(), "https://tv.vn/feed.atom")
    entry = atom.entries[0]
    assert atom.version == "atom10" and entry.summary == "Tóm tắt bản tin"
    assert entry.lastmod == datetime.fromisoformat("2025-04-29T08:15:00+07:00")


def test_youtube_feed_entries_are_items_with_the_description_as_text() -> None:
    entry = parse_feed(YOUTUBE.encode(), "https://www.youtube.com/feeds/videos.xml").entries[0]
    assert entry.standalone and entry.video_id == "abc"
    assert entry.summary == "Phóng sự về lễ kỷ niệm 50 năm Ngày giải phóng miền Nam."


def test_malformed_feed_gives_what_parses_and_the_error() -> None:
    broken = RSS2.replace("<title>Khai mạc Đại hội</title>", "<title>Hội & Đoàn</title>")
    feed = parse_feed(broken.encode(), "https://bct.vn/rss.xml")
    assert feed.error and "malformed" in feed.error
    assert [e.title for e in feed.entries] == ["Hội & Đoàn", "Không ngày"]


def test_html_is_not_a_feed() -> None:
    feed = parse_feed(b"<html><body>Xin chao</body></html>", "https://bct.vn/rss")
    assert not feed.is_feed and feed.error


SITEMAP_INDEX = """<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://bct.vn/sitemaps/2025-03.xml</loc><lastmod>2025-03-31T10:00:00+07:00</lastmod></sitemap>
<sitemap><loc>https://bct.vn/sitemaps/2025-04.xml</loc><lastmod>2025-04-28T10:00:00+07:00</lastmod></sitemap>
</sitemapindex>"""

NEWS_SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
 xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://bct.vn/a1.html</loc><news:news><news:publication>
<news:name>Báo Cần Thơ</news:name><news:language>vi</news:language></news:publication>
<news:publication_date>2025-04-28T08:15:00+07:00</news:publication_date>
<news:title>Khai mạc Đại hội</news:title></news:news></url>
<url><loc>https://bct.vn/a2.html</loc><lastmod>2025-04-27</lastmod></url>
</urlset>"""


def test_sitemap_index_and_news_sitemap() -> None:
    index = parse_sitemap(SITEMAP_INDEX.encode(), "https://bct.vn/sitemap.xml")
    assert [c.url for c in index.children] == ["https://bct.vn/sitemaps/2025-03.xml",
                                               "https://bct.vn/sitemaps/2025-04.xml"]
    assert index.children[1].lastmod == datetime.fromisoformat("2025-04-28T10:00:00+07:00")
    news = parse_sitemap(gzip.compress(NEWS_SITEMAP.encode()), "https://bct.vn/news.xml.gz")
    first, second = news.urls
    assert first.news_title == "Khai mạc Đại hội"
    assert first.changed_at == datetime.fromisoformat("2025-04-28T08:15:00+07:00")
    assert second.lastmod == datetime.fromisoformat("2025-04-27T00:00:00+07:00")


def test_not_a_sitemap() -> None:
    assert parse_sitemap(b"<html><body>404</body></html>", "https://x.vn/s.xml").error
    assert parse_sitemap(b"\x1f\x8bnot gzip", "https://x.vn/s.xml.gz").error


@pytest.mark.parametrize("url", [
    "https://vnexpress.net/gia-vang-the-gioi-tang-manh-dau-tho-vuot-90-usd-5047621.html",
    "https://baodautu.vn/xu-phat-giam-doc-tai-chinh-d538952.html",
    "https://cantho.gov.vn/Pages/chi-tiet-tin.aspx?ItemID=12345",
    "http://127.0.0.1:8000/tin-tuc/dai-hoi-dang-bo-phuong-ninh-kieu-lan-thu-i-361.html",
])
def test_article_links(url: str) -> None:
    assert looks_like_article(url)


@pytest.mark.parametrize("url", [
    "https://vnexpress.net/kinh-doanh", "https://dantri.com.vn/kinh-doanh/trang-2.htm",
    "https://bct.vn/tag/dai-hoi-dang.html", "https://bct.vn/tim-kiem?tu-khoa=dai+hoi",
    "https://bct.vn/lien-he", "https://bct.vn/", "https://bct.vn/logo-2025.png",
    "https://baochinhphu.vn/chu-de/quyet-tam-thuc-hien-thang-loi-nghi-quyet-dai-hoi-206.htm",
])
def test_not_article_links(url: str) -> None:
    assert not looks_like_article(url)


def test_sections_and_non_article_pages() -> None:
    assert looks_like_section("https://bct.vn/thoi-su/")
    assert looks_like_section("https://so.vn/tin-tuc/van-hoa/")
    assert not looks_like_section("https://bct.vn/lien-he/")
    assert is_non_article_path("https://bct.vn/index.html")
    assert is_non_article_path("https://bct.vn/search?q=abc")


def test_pagination_forms() -> None:
    assert page_number("https://so.vn/tin-tuc/van-hoa/?page=3") == (
        3, "https://so.vn/tin-tuc/van-hoa/?page={n}")
    assert page_number("https://x.vn/kinh-doanh/trang-2.htm")[0] == 2
    html = "<html><body><a href='/tin-tuc/?page=2'>2</a><a href='/tin-tuc/?page=3'>3</a></body>"
    assert next_page(parse_html(html), "https://x.vn/tin-tuc/") == "https://x.vn/tin-tuc/?page=2"
    html = "<html><body><a href='?page=2'>2</a><a href='?page=4'>4</a></body></html>"
    assert next_page(parse_html(html), "https://x.vn/a/?page=3") == "https://x.vn/a/?page=4"
    html = "<html><head><link rel='next' href='/p/xyz'></head></html>"
    assert next_page(parse_html(html), "https://x.vn/p/") == "https://x.vn/p/xyz"
