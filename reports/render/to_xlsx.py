"""The report as an Excel workbook (XlsxWriter): one sheet per section, real Excel tables.

Each table is an Excel table (filter buttons, banded rows) under a frozen
heading; numbers are numbers, dates are dates (local time, Excel has no zones),
and every crawled string is written as a string, never as a formula or link.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from dophu.dates import to_local
from reports.labels import fmt_datetime, report_title
from reports.model import Report
from reports.render.tables import Cell, Column, Section, Table, sections

_NUM_FORMATS = {
    "int": "#,##0",
    "signed": "+#,##0;-#,##0;0",
    "pct": "0.0%",
    "change_pct": "+0.0%;-0.0%;0.0%",
    "score": "0.00",
    "date": "dd/mm/yyyy",
    "datetime": "dd/mm/yyyy hh:mm",
}
_MARK_STYLES: dict[str, dict[str, Any]] = {
    "gap": {"bg_color": "#FBE3E1", "font_color": "#B3261E", "bold": True},
    "unverified": {"bg_color": "#E6E6E6", "font_color": "#5F6B76", "pattern": 1},
    "failing": {"bg_color": "#FFF4D6", "bold": True},
    "muted": {"font_color": "#A0A8B0"},
    "strong": {"bold": True},
}
MAX_URL = 2000


class _Formats:
    """XlsxWriter formats, made once per (number kind, mark)."""

    def __init__(self, workbook: Workbook):
        self.workbook = workbook
        self._cache: dict[tuple[str, str | None], Any] = {}
        self.title = workbook.add_format({"bold": True, "font_size": 14, "font_color": "#1F4E79"})
        self.subtitle = workbook.add_format({"italic": True, "font_color": "#5F6B76"})
        self.heading = workbook.add_format({"bold": True, "font_size": 11})
        self.note = workbook.add_format({"italic": True, "font_color": "#5F6B76",
                                         "text_wrap": False})
        self.paragraph = workbook.add_format({"text_wrap": False})

    def cell(self, kind: str, mark: str | None = None, link: bool = False) -> Any:
        key = (kind + ("+link" if link else ""), mark)
        if key not in self._cache:
            props: dict[str, Any] = {"valign": "top"}
            if kind in _NUM_FORMATS:
                props["num_format"] = _NUM_FORMATS[kind]
            if link:
                props.update({"font_color": "#1F4E79", "underline": 1})
            props.update(_MARK_STYLES.get(mark or "", {}))
            self._cache[key] = self.workbook.add_format(props)
        return self._cache[key]


def _excel_value(value: Any) -> Any:
    """Aware datetimes → local naive (Excel has no time zones); dates stay dates."""
    if isinstance(value, datetime):
        return to_local(value).replace(tzinfo=None)
    return value


def _unique_headers(columns: list[Column]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for column in columns:
        header = column.header.replace("\n", " ").strip() or "Cột"
        count = seen.get(header.lower(), 0)
        seen[header.lower()] = count + 1
        out.append(header if count == 0 else f"{header} ({count + 1})")
    return out


def _write_cell(sheet: Worksheet, row: int, col: int, cell: Cell, column: Column,
                formats: _Formats) -> None:
    value = _excel_value(cell.value)
    kind = column.kind
    if value is None:
        sheet.write_blank(row, col, None, formats.cell(kind, cell.mark))
    elif isinstance(value, bool):
        sheet.write_string(row, col, "có" if value else "", formats.cell("text", cell.mark))
    elif isinstance(value, datetime):
        sheet.write_datetime(row, col, value, formats.cell("datetime", cell.mark))
    elif isinstance(value, date):
        sheet.write_datetime(row, col, value, formats.cell("date", cell.mark))
    elif isinstance(value, int | float) and kind != "text":
        sheet.write_number(row, col, value, formats.cell(kind, cell.mark))
    elif isinstance(value, int | float):
        sheet.write_number(row, col, value, formats.cell("int", cell.mark))
    else:
        text = str(value)
        url = cell.href
        if url and url.lower().startswith(("http://", "https://")) and len(url) <= MAX_URL:
            sheet.write_url(row, col, url, formats.cell("text", cell.mark, link=True),
                            string=text[:32000])
        else:
            sheet.write_string(row, col, text[:32000], formats.cell("text", cell.mark))


def _write_table(sheet: Worksheet, top: int, table: Table, formats: _Formats,
                 with_title: bool) -> tuple[int, int | None]:
    """Writes a table from row ``top``; returns (next free row, its heading row or None)."""
    row = top
    if with_title:
        sheet.write_string(row, 0, table.title, formats.heading)
        row += 1
    columns = [c for c in table.columns if c.kind != "trend"]
    keep = [i for i, c in enumerate(table.columns) if c.kind != "trend"]
    if not table.rows:
        sheet.write_string(row, 0, table.empty_text, formats.note)
        return row + 2, None
    header_row = row
    last_row = header_row + len(table.rows)
    headers = _unique_headers(columns)
    sheet.add_table(header_row, 0, last_row, len(columns) - 1, {
        "name": table.name,
        "style": "Table Style Light 9",
        "columns": [{"header": h, "format": formats.cell(c.kind)}
                    for h, c in zip(headers, columns, strict=True)],
    })
    for offset, cells in enumerate(table.rows, start=1):
        for col, index in enumerate(keep):
            _write_cell(sheet, header_row + offset, col, cells[index], columns[col], formats)
    row = last_row + 1
    if table.note:
        sheet.write_string(row, 0, table.note, formats.note)
        row += 1
    return row + 1, header_row


def _section_sheet(workbook: Workbook, section: Section, title: str,
                   formats: _Formats) -> tuple[Worksheet, int | None]:
    """One sheet: its title, the section's sentences, then its tables; returns the sheet and
    the heading row of its first table."""
    sheet = workbook.add_worksheet(section.sheet)
    sheet.write_string(0, 0, section.title, formats.title)
    sheet.write_string(1, 0, title, formats.subtitle)
    row = 3
    for paragraph in section.paragraphs:
        sheet.write_string(row, 0, paragraph, formats.paragraph)
        row += 1
    if section.paragraphs:
        row += 1
    first_header: int | None = None
    column_widths: list[int] = []
    for index, table in enumerate(section.tables):
        row, header = _write_table(sheet, row, table, formats,
                                   with_title=index > 0 or bool(section.paragraphs))
        if first_header is None and header is not None:
            first_header = header
        for i, column in enumerate(c for c in table.columns if c.kind != "trend"):
            if i >= len(column_widths):
                column_widths.append(column.width)
            else:
                column_widths[i] = max(column_widths[i], column.width)
    for i, width in enumerate(column_widths):
        sheet.set_column(i, i, width)
    if section.paragraphs or first_header is None:
        sheet.freeze_panes(2, 0)
    else:
        sheet.freeze_panes(first_header + 1, 1)
    sheet.set_landscape()
    sheet.set_paper(9)            # A4
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(first_header if first_header is not None else 0)
    return sheet, first_header


def _periods_chart(workbook: Workbook, sheet: Worksheet, table: Table, header: int) -> None:
    """A native Excel chart of items and the plan's items per period, under the table."""
    first, last = header + 1, header + len(table.rows)
    chart = workbook.add_chart({"type": "column"})
    for column, name, color in ((3, "Tin bài", "#C6D6E8"), (4, "Thuộc kế hoạch", "#1F4E79")):
        chart.add_series({
            "name": name,
            "categories": [sheet.name, first, 0, last, 0],
            "values": [sheet.name, first, column, last, column],
            "fill": {"color": color},
        })
    chart.set_title({"name": "Tin bài theo thời gian"})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 720, "height": 300})
    sheet.insert_chart(last + 3, 0, chart)


def render_xlsx(report: Report) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {
        "in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
        "strings_to_numbers": False, "default_date_format": "dd/mm/yyyy"})
    title = report_title(report.kind, report.week, report.date_from, report.date_to,
                         report.unit_name)
    workbook.set_properties({
        "title": title, "subject": report.plan_name, "author": "dophu",
        "comments": f"{report.schema_}; lập lúc {fmt_datetime(report.generated_at)}",
        "created": _excel_value(report.generated_at)})
    formats = _Formats(workbook)
    for section in sections(report):
        sheet, header = _section_sheet(workbook, section, title, formats)
        if section.key == "periods" and header is not None:
            _periods_chart(workbook, sheet, section.tables[0], header)
    workbook.close()
    return buffer.getvalue()
