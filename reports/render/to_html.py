"""The report as one self-contained HTML page: inline CSS and SVG, no external request.

Every text is escaped by Jinja's autoescape (crawled titles may hold ``<script>``),
links are kept only for http(s) URLs, and a Content-Security-Policy forbids
scripts and remote loads even if something slipped through.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from reports.charts import overview_chart, sparkline, themes_chart
from reports.labels import (
    fmt_change_pct,
    fmt_date,
    fmt_datetime,
    fmt_int,
    fmt_pct,
    fmt_short_date,
    fmt_signed,
    period_word,
    report_title,
    short_name,
    short_period_label,
)
from reports.model import Report
from reports.render.tables import Column, Table, format_cell, sections

_NUMERIC = {"int", "signed", "pct", "change_pct", "score", "date", "datetime"}


@lru_cache(maxsize=1)
def _template() -> Any:
    package = resources.files("reports.render")
    env = Environment(autoescape=True, trim_blocks=False, lstrip_blocks=False)
    env.globals["css"] = Markup((package / "report.css").read_text(encoding="utf-8"))
    return env.from_string((package / "report.html").read_text(encoding="utf-8"))


def safe_href(url: str | None) -> str | None:
    """Only http(s) links become links: never ``javascript:`` or ``data:``."""
    if url and url.strip().lower().startswith(("http://", "https://")):
        return url.strip()
    return None


@dataclass
class _Card:
    label: str
    value: str
    sub: str


def _column_view(column: Column) -> dict[str, Any]:
    css = " ".join(x for x in ("num" if column.kind in _NUMERIC else "",
                               "vertical" if column.vertical else "") if x)
    return {"header": column.header, "css": css, "tooltip": column.tooltip,
            "vertical": column.vertical}


def _table_view(table: Table, trend_svgs: list[Markup] | None = None) -> dict[str, Any]:
    rows = []
    for index, row in enumerate(table.rows):
        cells = []
        for cell, column in zip(row, table.columns, strict=True):
            css = " ".join(x for x in ("num" if column.kind in _NUMERIC else "",
                                       "trend" if column.kind == "trend" else "",
                                       "name" if column.kind == "text" and column.width >= 36
                                       else "",
                                       cell.mark or "") if x)
            svg = trend_svgs[index] if column.kind == "trend" and trend_svgs else None
            cells.append({"text": format_cell(cell, column.kind), "css": css, "svg": svg,
                          "href": safe_href(cell.href) if column.kind == "text" else None})
        rows.append({"cells": cells, "group": table.groups.get(index)})
    wide = sum(c.vertical for c in table.columns) > 4 or len(table.columns) >= 8
    return {"name": table.name, "title": table.title, "note": table.note,
            "empty_text": table.empty_text, "css": "wide" if wide else "",
            "columns": [_column_view(c) for c in table.columns], "rows": rows}


def _cards(report: Report) -> list[_Card]:
    t = report.totals
    last = f"{period_word(report.kind)} trước"
    gap_units = [u for u in report.responsible_units if u.gaps]
    failing_units = [u for u in report.responsible_units if u.failing_sources]
    return [
        _Card("Tin bài thu thập", fmt_int(t.items),
              f"{last} {fmt_int(t.previous_items)} ({fmt_signed(t.items_change)}; "
              f"{fmt_change_pct(t.items_change_pct)})"),
        _Card("Thuộc phạm vi kế hoạch", fmt_int(t.relevant),
              f"{last} {fmt_int(t.previous_relevant)} ({fmt_signed(t.relevant_change)}; "
              f"{fmt_change_pct(t.relevant_change_pct)})"),
        _Card("Tỷ lệ thuộc kế hoạch", fmt_pct(t.relevant_share),
              f"{last} {fmt_pct(t.previous_relevant_share)}"),
        _Card("Đơn vị thiếu tin chủ đề lớn", fmt_int(len(gap_units)),
              f"{fmt_int(len(failing_units))} đơn vị có nguồn lỗi (tính riêng)"),
    ]


def render_html(report: Report) -> bytes:
    title = report_title(report.kind, report.week, report.date_from, report.date_to,
                         report.unit_name)
    labels = [short_period_label(p.key, report.granularity) for p in report.periods]
    word = period_word(report.kind)
    overview = overview_chart(labels, [p.items for p in report.periods],
                              [p.relevant for p in report.periods], "ov",
                              title="Tin bài theo thời gian")
    themes = themes_chart([short_name(t.name, 30) for t in report.themes],
                          [t.items for t in report.themes], [t.previous for t in report.themes],
                          "th", title="Tin bài theo chủ đề",
                          current_label=f"{word.capitalize()} này",
                          previous_label=f"{word.capitalize()} trước")
    trend_svgs = [Markup(sparkline(t.trend, f"sp{i}", title=f"Diễn biến: {t.name}"))
                  for i, t in enumerate(report.themes)]
    views = []
    for section in sections(report):
        tables = [_table_view(t, trend_svgs if t.name == "ChuDe" else None)
                  for t in section.tables]
        views.append({"key": section.key, "title": section.title, "tables": tables,
                      "paragraphs": section.paragraphs})
    caption = ("Tám tuần gần nhất, tuần báo cáo ở cuối" if report.kind == "weekly"
               else "Theo từng kỳ trong khoảng báo cáo")
    html = _template().render(
        report=report, title=title, sections=views, cards=_cards(report),
        generated=fmt_datetime(report.generated_at),
        period_this=f"{word} này",
        period_span=f"{fmt_short_date(report.date_from)} – {fmt_date(report.date_to)}",
        overview_chart=Markup(overview), overview_caption=caption,
        themes_chart=Markup(themes),
        themes_caption=f"Số tin bài theo chủ đề, {word} này so với {word} trước")
    return html.encode("utf-8")
