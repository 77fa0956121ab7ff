"""The four formats, rendered from one report: same numbers, escaped text, valid files."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime
from html.parser import HTMLParser

import openpyxl
import pytest

from dophu.dates import LOCAL_TZ
from reports.build import build_weekly
from reports.charts import scope_svg, sparkline
from reports.model import Report
from reports.render import EXTENSIONS, FORMATS, MEDIA_TYPES, filename, render
from reports.render.to_markdown import md_text
from tests.reports.reports_fixture import item

NOW = datetime(2025, 5, 5, 7, 0, tzinfo=LOCAL_TZ)
SHEETS = ["Tổng quan", "Chủ đề", "Diễn biến", "Đơn vị", "Nguồn tin", "Ngày kỷ niệm",
          "Tin bài tiêu biểu", "Chất lượng"]


@pytest.fixture
def report(store, plan, sources) -> Report:
    # Hostile crawled text: a formula, a javascript: link, markup in titles.
    store.upsert([
        item("x1", "baocantho", "bao-can-tho", "2025-05-02T09:00:00+07:00",
             themes={"dai-hoi-dang": 0.97}, title="=HYPERLINK(\"http://evil\")",
             url="javascript:alert(1)"),
        item("x2", "baocantho", "bao-can-tho", "2025-05-02T10:00:00+07:00",
             themes={"dai-hoi-dang": 0.96}, title="<img src=x onerror=alert(2)> [a](b) *c*"),
    ])
    return build_weekly(store, plan, sources, week="2025-W18", now=NOW)


def test_media_types_and_names(report):
    assert set(FORMATS) == set(MEDIA_TYPES) == set(EXTENSIONS)
    assert MEDIA_TYPES["xlsx"].startswith("application/vnd.openxmlformats")
    assert filename(report, "xlsx") == "dophu-2025-W18.xlsx"
    unit = report.model_copy(update={"unit": "bao-can-tho"})
    assert filename(unit, "md") == "dophu-2025-W18-bao-can-tho.md"
    with pytest.raises(ValueError, match="unknown report format"):
        render(report, "pdf")


def test_json_round_trips_to_the_same_model(report):
    data = json.loads(render(report, "json"))
    assert data["schema"] == "dophu.report/1"
    assert Report.model_validate(data) == report
    assert data["totals"]["items"] == 11


# ------------------------------------------------------------------ markdown


def test_markdown_has_every_section_and_escapes_titles(report):
    text = render(report, "md").decode("utf-8")
    assert text.startswith("# Báo cáo độ phủ tuần 18/2025 (28/04 – 04/05/2025)")
    for heading in ("## 1. Tổng quan", "## 2. Theo chủ đề", "## 3. Theo đơn vị",
                    "## 4. Ngày kỷ niệm", "## 5. Tin bài tiêu biểu theo chủ đề",
                    "## 6. Chất lượng gắn nhãn"):
        assert heading in text
    assert "<script" not in text and "<img" not in text
    assert "&lt;script&gt;" in text
    assert "javascript:" not in text.split("Tin bài tiêu biểu")[-1].split("](")[-1]
    assert "](javascript" not in text
    assert "| Tin bài thu thập | 11 | 4 | +7 | +175% |" in text
    # a gap is marked, an unverified one is told apart
    assert "**0 ✗**" in text and "0 ?" in text


def test_md_text_neutralises_markdown():
    assert md_text("a|b *c* [d](e) <f>\nnext") == r"a\|b \*c\* \[d\](e) &lt;f&gt; next"


# ------------------------------------------------------------------ HTML


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.ids: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            self.attrs.append((tag, name, value or ""))
            if name == "id":
                self.ids.append(value or "")


def test_html_is_self_contained_and_escaped(report):
    html = render(report, "html").decode("utf-8")
    parsed = _Collector()
    parsed.feed(html)
    assert "script" not in parsed.tags and "img" not in parsed.tags
    assert "link" not in parsed.tags and "iframe" not in parsed.tags
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    # no attribute loads anything; links are only http(s) anchors
    for tag, name, value in parsed.attrs:
        assert name not in ("src", "srcset", "background"), (tag, name, value)
        if name in ("href", "xlink:href"):
            assert value.startswith(("https://", "http://", "#")), value
    assert 'href="javascript' not in html        # shown as text, never a link
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    # several charts inline, and still no id twice
    assert len(parsed.ids) == len(set(parsed.ids))
    assert html.count("<svg") == 2 + len(report.themes)
    for ref in re.findall(r"url\(#([^)]+)\)", html):
        assert ref in parsed.ids


def test_html_has_vietnamese_sections_and_marks(report):
    html = render(report, "html").decode("utf-8")
    for heading in ("1. Tổng quan", "2. Theo chủ đề", "3. Theo đơn vị", "4. Ngày kỷ niệm",
                    "5. Tin bài tiêu biểu theo chủ đề", "6. Chất lượng gắn nhãn"):
        assert f"<h2>{heading}</h2>" in html
    assert html.startswith("<!doctype html>") and '<html lang="vi">' in html
    assert 'class="num gap"' in html            # quan-ninh-kieu on co-do-40-nam
    assert 'class="num unverified"' in html     # dai-ptth: its source failed
    assert "@page { size: A4" in html
    assert "Các chủ đề lớn, trọng tâm" in html and "Các chủ đề khác" in html


def test_empty_week_html_says_so(store, plan, sources):
    empty = build_weekly(store, plan, sources, week="2025-W27", now=NOW)
    html = render(empty, "html").decode("utf-8")
    assert 'class="empty-notice"' in html
    assert "Không thu thập được tin bài nào trong tuần này" in html


# ------------------------------------------------------------------ charts


def test_scope_svg_prefixes_ids_and_drops_global_style():
    svg = sparkline([1, 3, 0, 2], "abc", title="Xu hướng <1>")
    assert not svg.startswith("<?xml") and "<!DOCTYPE" not in svg and "<metadata" not in svg
    assert "<style" not in svg and "*{" not in svg
    ids = re.findall(r'\sid="([^"]+)"', svg)
    assert ids and all(i.startswith("abc-") for i in ids)
    for ref in re.findall(r"url\(#([^)]+)\)", svg) + re.findall(r'href="#([^"]+)"', svg):
        assert ref in ids
    assert "<title>Xu hướng &lt;1&gt;</title>" in svg
    assert sparkline([1, 3, 0, 2], "abc") == sparkline([1, 3, 0, 2], "abc")   # stable
    with pytest.raises(ValueError):
        scope_svg(svg, "1bad")


# ------------------------------------------------------------------ XLSX


def _table_rows(sheet, name: str) -> list[list]:
    table = sheet.tables[name]
    rows = list(sheet[table.ref])
    return [[c.value for c in row] for row in rows]


def test_xlsx_sheets_tables_and_values(report):
    book = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx")))
    assert book.sheetnames == SHEETS
    summary = book["Tổng quan"]
    assert summary["A1"].value == "1. Tổng quan"
    figures = _table_rows(summary, "TongQuan")
    assert figures[0] == ["Chỉ số", "Tuần này", "Tuần trước", "Thay đổi", "Thay đổi %"]
    assert figures[1] == ["Tin bài thu thập", 11, 4, 7, 1.75]
    assert figures[2] == ["Tin bài thuộc phạm vi kế hoạch", 8, 3, 5, pytest.approx(5 / 3, 1e-3)]

    themes = _table_rows(book["Chủ đề"], "ChuDe")
    assert themes[0][:5] == ["Chủ đề", "Mục", "Chủ đề lớn", "Tuần này", "Tuần trước"]
    assert [r[0] for r in themes[1:4]] == [t.name for t in report.major_themes]
    assert themes[1][3:5] == [3, 3]
    assert book["Chủ đề"].freeze_panes == "B5"

    units = _table_rows(book["Đơn vị"], "DonVi")
    by_name = {r[0]: r for r in units[1:]}
    assert by_name["Quận ủy Ninh Kiều"][2:5] == [2, 1, 2]
    assert "Đảng ủy phường An Bình" not in by_name           # not monitored: listed apart
    unmonitored = _table_rows(book["Đơn vị"], "ChuaTheoDoi")
    assert unmonitored[1][0] == "Đảng ủy phường An Bình"
    failing = _table_rows(book["Đơn vị"], "NguonLoi")
    assert failing[1][:4] == ["Đài PT-TH Cần Thơ", "Cần Thơ TV", "lỗi thu thập", 4]
    reference = _table_rows(book["Đơn vị"], "ThamKhao")
    assert reference[1][0] == "Báo chí trung ương"

    periods = book["Diễn biến"]
    rows = _table_rows(periods, "DienBien")
    assert rows[-1][:5] == ["Tuần 18/2025", datetime(2025, 4, 28), datetime(2025, 5, 4), 11, 8]
    assert periods.cell(row=12, column=2).is_date
    assert periods.cell(row=12, column=2).number_format == "dd/mm/yyyy"
    assert periods._charts, "the periods sheet carries a native chart"

    anniversaries = _table_rows(book["Ngày kỷ niệm"], "KyNiem")
    assert anniversaries[1][1] == datetime(2025, 4, 30)
    assert anniversaries[1][4:] == [2, "thứ Tư tuần này", 1, 2]

    quality = dict((r[0], r[1]) for r in _table_rows(book["Chất lượng"], "ChatLuong")[1:])
    assert quality["Nhãn được sửa (bỏ hoặc thêm)"] == 2


def test_xlsx_writes_crawled_text_as_text(report):
    book = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx")))
    sheet = book["Tin bài tiêu biểu"]
    rows = _table_rows(sheet, "TieuBieu")
    titles = {r[2] for r in rows[1:]}
    assert '=HYPERLINK("http://evil")' in titles
    cell = next(c for row in sheet.iter_rows() for c in row
                if c.value == '=HYPERLINK("http://evil")')
    assert cell.data_type == "s" and cell.hyperlink is None    # javascript: never linked
    linked = next(c for row in sheet.iter_rows() for c in row if c.value == "Tin v1")
    assert linked.hyperlink is not None and linked.hyperlink.target == "https://example.vn/v1"
    published = rows[1][4]
    assert isinstance(published, datetime) and published.tzinfo is None   # local, naive
    assert sheet.column_dimensions["C"].width >= 60


def test_xlsx_empty_report_opens(empty_store, plan, sources):
    empty = build_weekly(empty_store, plan, sources, week="2025-W18", now=NOW)
    book = openpyxl.load_workbook(io.BytesIO(render(empty, "xlsx")))
    assert book.sheetnames == SHEETS
    assert _table_rows(book["Tổng quan"], "TongQuan")[1][1:3] == [0, 0]
    assert "TieuBieu" not in book["Tin bài tiêu biểu"].tables
    assert book["Tin bài tiêu biểu"]["A4"].value.startswith("Không có tin bài nào")
