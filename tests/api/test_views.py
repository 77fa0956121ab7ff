"""The page helpers: safe highlights, evidence marks, tag status, heat levels."""

from __future__ import annotations

from datetime import datetime

from api.views import (
    evidence_spans,
    heat_level,
    mark_evidence,
    safe_highlight,
    safe_href,
    tag_views,
)
from dophu.dates import LOCAL_TZ
from dophu.models import Feedback
from tests.api.api_fixture import GIAI_PHONG


def test_store_highlights_pass_only_with_mark_tags():
    assert safe_highlight("a <mark>Đại</mark> &amp; b") == "a <mark>Đại</mark> &amp; b"
    assert safe_highlight("<mark>x</mark><script>alert(1)</script>") == (
        "x&lt;script&gt;alert(1)&lt;/script&gt;")
    assert safe_highlight('<mark onclick="x">y</mark>') == (
        "&lt;mark onclick=&#34;x&#34;&gt;y")
    assert safe_highlight(None) == ""


def test_links_only_for_http():
    assert safe_href("https://baocantho.com.vn/a") == "https://baocantho.com.vn/a"
    assert safe_href(" javascript:alert(1)") is None
    assert safe_href("data:text/html,x") is None and safe_href(None) is None


def test_evidence_found_with_or_without_diacritics_on_word_boundaries():
    text = "Lễ kỷ niệm 50 NĂM NGÀY GIẢI PHÓNG miền Nam; giai phong mien nam lần nữa."
    spans = evidence_spans(text, ["50 năm ngày giải phóng", "Giải phóng miền Nam"])
    assert [text[s:e] for s, e in spans] == ["50 NĂM NGÀY GIẢI PHÓNG miền Nam",
                                             "giai phong mien nam"]
    assert evidence_spans("giải phóng mặt bằng", ["giải phóng mặt"]) == [(0, 14)]
    assert evidence_spans("đổi mới sáng tạo", ["mới sáng tạo x"]) == []
    assert evidence_spans("khí thế mới", ["thế mớ"]) == []      # not inside a word


def test_mark_evidence_escapes_everything_else():
    html = mark_evidence("<b>Đại hội</b> Đảng bộ & nhân dân", ["đại hội", "nhân dân"])
    assert html == ('&lt;b&gt;<mark class="ev">Đại hội</mark>&lt;/b&gt; Đảng bộ &amp; '
                    '<mark class="ev">nhân dân</mark>')
    assert mark_evidence("<i>x</i>", []) == "&lt;i&gt;x&lt;/i&gt;"


def test_tag_views_show_the_latest_feedback_and_added_labels():
    at = datetime(2025, 5, 2, 9, 0, tzinfo=LOCAL_TZ)
    feedback = [
        Feedback(item_id=GIAI_PHONG.id, label_kind="theme", label="niem-tin-moi",
                 action="confirm", user="an", at=at),
        Feedback(item_id=GIAI_PHONG.id, label_kind="theme", label="niem-tin-moi",
                 action="reject", user="binh", at=at),
        Feedback(item_id=GIAI_PHONG.id, label_kind="theme", label="doi-ngoai",
                 action="add", user="an", at=at),
    ]
    views = tag_views(GIAI_PHONG, feedback, {("theme", "doi-ngoai"): "Thông tin đối ngoại"})
    assert [(v.kind, v.id, v.status, v.status_by) for v in views] == [
        ("theme", "niem-tin-moi", "reject", "binh"),
        ("anniversary", "giai-phong-mien-nam-50", None, None),
        ("theme", "doi-ngoai", "add", "an")]
    assert views[2].name == "Thông tin đối ngoại" and views[2].score is None
    assert views[0].status_at == "09:00 02/05/2025"


def test_heat_levels():
    assert heat_level(0, 10) == 0
    assert heat_level(1, 10) == 1 and heat_level(10, 10) == 5
    assert heat_level(1, 1) == 5
    assert 1 <= heat_level(5, 10) <= 5
