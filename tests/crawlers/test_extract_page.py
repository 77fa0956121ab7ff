"""extract_page on small hand-made pages: metadata precedence and the cheap paths."""

from __future__ import annotations

from datetime import datetime

from crawlers.extract import MetaTags, extract_page
from crawlers.listings import parse_html

BODY = " ".join(["Thành phố Cần Thơ tổ chức nhiều hoạt động kỷ niệm, thu hút đông đảo "
                 "người dân tham gia và để lại nhiều ấn tượng."] * 8)


def test_meta_tags_follow_name_order_then_attribute_order() -> None:
    tree = parse_html("""<html><head>
        <meta name="description" content="by name">
        <meta property="description" content="by property">
        <meta property="og:title" content="  ">
        <meta name="og:title" content="first non-empty">
        <meta itemprop="datePublished" content="2025-04-28T08:15:00+07:00">
        </head><body></body></html>""")
    meta = MetaTags(tree)
    assert meta.get("description") == "by property"
    assert meta.get("og:title") == "first non-empty"
    assert meta.get("missing", "datePublished") == "2025-04-28T08:15:00+07:00"
    assert meta.get("missing") is None


def test_json_ld_headline_entities_are_decoded_even_when_escaped_twice() -> None:
    html = f"""<html lang="vi"><head><script type="application/ld+json">
        {{"@type": "NewsArticle",
          "headline": "Chi&amp;#7871;n s&amp;#7921; v&#224; h&#242;a b&#236;nh",
          "datePublished": "2025-04-28T08:15:00+07:00"}}</script></head>
        <body><article><p>{BODY}</p></article></body></html>"""
    facts = extract_page(html, "https://example.vn/tin-tuc/chien-su-va-hoa-binh-123.html")
    assert facts.is_item, facts.reason
    assert facts.title == "Chiến sự và hòa bình"
    assert facts.published_at == datetime.fromisoformat("2025-04-28T08:15:00+07:00")


def test_page_without_date_markup_still_gets_title_and_date() -> None:
    html = f"""<html lang="vi"><head><title>Trang tin</title></head><body>
        <h1>Lễ kỷ niệm trọng thể tại Cần Thơ</h1>
        <div class="post-date">Thứ Hai, 28/04/2025 - 08:15</div>
        <div class="content"><p>{BODY}</p><p>{BODY}</p></div></body></html>"""
    facts = extract_page(html, "https://example.vn/tin-tuc/le-ky-niem-trong-the-456.html")
    assert facts.is_item, facts.reason
    assert facts.title == "Lễ kỷ niệm trọng thể tại Cần Thơ"
    assert facts.published_at == datetime.fromisoformat("2025-04-28T08:15:00+07:00")
    assert "Thành phố Cần Thơ tổ chức" in facts.text


def test_home_page_by_its_url_is_not_an_item_and_is_not_extracted() -> None:
    html = f"<html><head><title>Báo</title></head><body><p>{BODY}</p></body></html>"
    facts = extract_page(html, "https://example.vn/")
    assert facts.page_type == "home" and not facts.is_item
    assert facts.text == ""        # no extraction was paid for a page that is never stored
