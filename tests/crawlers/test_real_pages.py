"""Extraction on real pages of eight Vietnamese sites (shared/data/html, read-only)."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from pathlib import Path

import pytest

from crawlers.encoding import decode_html
from crawlers.extract import extract_page
from crawlers.links import is_non_article_path
from crawlers.listings import article_links, next_page, parse_html, section_links
from dophu.dates import LOCAL_TZ
from tests.conftest import SHARED_DATA

HTML_DIR = SHARED_DATA / "html"

# file → (title, publication time): read off each page by hand.
ARTICLES = {
    "baochinhphu_article.html": ("Chính sách mới có hiệu lực từ tháng 3/2026",
                                 "2026-03-01T09:51:00+07:00"),
    # the date is only in the page text ("- 07/03/2026 08:47"); the title's "Hoá" is
    # normalised to the modern tone placement
    "baodautu_article.html": ("Xử phạt Giám đốc tài chính Tập đoàn Tiên Sơn Thanh Hóa vì thao "
                              "túng cổ phiếu", "2026-03-07T08:47:00+07:00"),
    "cafef_article.html": ("Thời điểm nâng hạng cận kề, MBS điểm tên 30 cổ phiếu Việt Nam có "
                           "khả năng lọt rổ chỉ số FTSE", "2026-03-07T00:01:00+07:00"),
    "cafef_article_batdongsan.html": ("Tăng hỗ trợ, giảm áp lực tài chính khi chuyển mục đích "
                                      "sử dụng đất", "2026-03-07T09:40:00+07:00"),
    "dantri_article.html": ("Giá vàng giảm, vẫn cao hơn thế giới gần 20 triệu đồng/lượng",
                            "2026-03-07T08:07:18+07:00"),
    "nld_article.html": ("Những sai sót hộ kinh doanh thường gặp khi thực hiện quy định thuế "
                         "mới", "2026-03-07T08:06:00+07:00"),
    "tuoitre_article.html": ("Chiến sự đẩy giá hoa nhập khẩu dịp 8-3 tăng mạnh",
                             "2026-03-07T08:01:53+07:00"),
    "vietnamnet_article.html": ("Cổ phiếu FLC được giao dịch trở lại",
                                "2026-03-07T08:52:11+07:00"),
    "vnexpress_article.html": ("Cách các nước đối phó cú sốc năng lượng từ Trung Đông",
                               "2026-03-07T00:05:00+07:00"),
}
SITES = ("baochinhphu", "baodautu", "cafef", "dantri", "nld", "tuoitre", "vietnamnet",
         "vnexpress")


def load(name: str) -> tuple[str, str]:
    path: Path = HTML_DIR / name
    if not path.exists():
        pytest.fail(f"shared data missing: {path}")
    text = decode_html(path.read_bytes(), "text/html").text
    canonical = re.search(r'rel="canonical" href="([^"]+)"', text)
    assert canonical, name
    return text, canonical.group(1)


@pytest.mark.parametrize("name", sorted(ARTICLES))
def test_article_title_date_and_text(name: str) -> None:
    html, url = load(name)
    facts = extract_page(html, url)
    title, published = ARTICLES[name]
    assert facts.is_item, facts.reason
    assert facts.title == title
    assert facts.published_at == datetime.fromisoformat(published)
    assert facts.published_at.astimezone(LOCAL_TZ).utcoffset().total_seconds() == 7 * 3600
    assert len(facts.text) > 1000
    assert unicodedata.is_normalized("NFC", facts.text)
    assert facts.canonical == url


def test_article_metadata_where_the_page_has_it() -> None:
    facts = extract_page(*load("dantri_article.html"))
    assert facts.section and "Kinh doanh" in facts.section
    assert "Kinh doanh" in facts.tags
    facts = extract_page(*load("nld_article.html"))
    assert facts.modified_at == datetime.fromisoformat("2026-03-07T08:40:59+07:00")
    assert "hộ kinh doanh" in facts.tags


@pytest.mark.parametrize("site", SITES)
def test_listing_pages_are_not_items_and_link_their_articles(site: str) -> None:
    html, url = load(f"{site}_list.html")
    facts = extract_page(html, url)
    assert facts.page_type == "listing", facts.reason
    tree = parse_html(html)
    links = [link.url for link in article_links(tree, url)]
    assert len(links) >= 15
    _, article_url = load(next(n for n in ARTICLES if n.startswith(site)))
    assert article_url in links
    sections = set(section_links(tree, url))
    assert sections and not sections & set(links)
    assert not any(is_non_article_path(u) for u in links)


@pytest.mark.parametrize(("site", "expected"), [
    ("baodautu", "http://baodautu.vn/tai-chinh-chung-khoan-d6/p2"),
    ("dantri", "https://dantri.com.vn/kinh-doanh/trang-2.htm"),
    ("vnexpress", "https://vnexpress.net/kinh-doanh-p2"),
])
def test_next_page_of_real_listings(site: str, expected: str) -> None:
    html, url = load(f"{site}_list.html")
    assert next_page(parse_html(html), url) == expected
