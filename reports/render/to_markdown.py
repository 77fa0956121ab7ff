"""The report as Markdown: the same sections and tables, for mail and chat.

Crawled text is escaped twice over: Markdown's own punctuation, and ``<``/``>``/``&``
so that a renderer allowing inline HTML never sees a tag from a page title.
"""

from __future__ import annotations

import re
from html import escape
from urllib.parse import quote

from reports.labels import fmt_datetime, report_title
from reports.model import Report
from reports.render.tables import Cell, Column, Table, format_cell, sections

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_SAFE_URL = re.compile(r"^https?://", re.IGNORECASE)
_MARKS = {"gap": "{} ✗", "unverified": "{} ?"}


def md_text(text: str) -> str:
    """Plain text made inert in Markdown (one line, no HTML, no syntax)."""
    text = " ".join(str(text).split())
    return _MD_SPECIAL.sub(r"\\\1", escape(text, quote=False))


def md_url(url: str) -> str | None:
    """An http(s) URL safe inside ``(...)``; None for anything else (javascript:, data:)."""
    if not url or not _SAFE_URL.match(url):
        return None
    return quote(url, safe=":/?#@!$&'*+,;=%~-._")


def _cell(cell: Cell, column: Column) -> str:
    text = md_text(format_cell(cell, column.kind))
    if cell.href and (url := md_url(cell.href)) and column.kind == "text":
        text = f"[{text}]({url})"
    if cell.mark in _MARKS:
        text = _MARKS[cell.mark].format(text)
    if cell.mark == "gap":
        text = f"**{text}**"
    return text


def _table(table: Table, level: str = "###") -> list[str]:
    lines = [f"{level} {md_text(table.title)}", ""]
    if not table.rows:
        return [*lines, f"_{md_text(table.empty_text)}_", ""]
    columns = table.columns
    lines.append("| " + " | ".join(md_text(c.header) for c in columns) + " |")
    lines.append("| " + " | ".join("---:" if c.kind not in ("text", "trend") else "---"
                                   for c in columns) + " |")
    for row in table.rows:
        lines.append("| " + " | ".join(_cell(cell, column)
                                       for cell, column in zip(row, columns, strict=True))
                     + " |")
    lines.append("")
    if table.note:
        lines += [f"_{md_text(table.note)}_", ""]
    return lines


def render_markdown(report: Report) -> bytes:
    title = report_title(report.kind, report.week, report.date_from, report.date_to,
                         report.unit_name)
    lines = [f"# {md_text(title)}", "",
             f"{md_text(report.plan_name)}  ",
             f"Giai đoạn: {md_text(report.phase or 'ngoài các giai đoạn của kế hoạch')} · "
             f"Múi giờ {md_text(report.timezone)} · Lập lúc {fmt_datetime(report.generated_at)}",
             ""]
    for section in sections(report):
        lines += [f"## {md_text(section.title)}", ""]
        if section.paragraphs:
            lines += [f"- {md_text(p)}" for p in section.paragraphs] + [""]
        for table in section.tables:
            lines += _table(table)
    return ("\n".join(lines).rstrip() + "\n").encode("utf-8")
