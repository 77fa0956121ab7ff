"""Turns one :class:`~reports.model.Report` into bytes: HTML, XLSX, Markdown or JSON.

All four formats read the same model, so their numbers always agree.
"""

from __future__ import annotations

from typing import Literal

from reports.model import Report

Format = Literal["html", "xlsx", "md", "json"]
FORMATS: tuple[str, ...] = ("html", "xlsx", "md", "json")

MEDIA_TYPES: dict[str, str] = {
    "html": "text/html; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "md": "text/markdown; charset=utf-8",
    "json": "application/json",
}
EXTENSIONS: dict[str, str] = {"html": ".html", "xlsx": ".xlsx", "md": ".md", "json": ".json"}


def render(report: Report, fmt: str) -> bytes:
    """The report in ``fmt``; ValueError for an unknown format."""
    if fmt == "json":
        from reports.render.to_json import render_json

        return render_json(report)
    if fmt == "md":
        from reports.render.to_markdown import render_markdown

        return render_markdown(report)
    if fmt == "html":
        from reports.render.to_html import render_html

        return render_html(report)
    if fmt == "xlsx":
        from reports.render.to_xlsx import render_xlsx

        return render_xlsx(report)
    raise ValueError(f"unknown report format {fmt!r} (one of {', '.join(FORMATS)})")


def filename(report: Report, fmt: str) -> str:
    """A download name: ``dophu-2025-W18.html``, ``dophu-2025-04-01_2025-04-30-bao-can-tho.md``."""
    if report.kind == "weekly" and report.week:
        stem = f"dophu-{report.week}"
    else:
        stem = f"dophu-{report.date_from.isoformat()}_{report.date_to.isoformat()}"
    if report.unit:
        stem += f"-{report.unit}"
    return stem + EXTENSIONS[fmt]


__all__ = ["EXTENSIONS", "FORMATS", "MEDIA_TYPES", "Format", "filename", "render"]
