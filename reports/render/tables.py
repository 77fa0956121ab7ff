"""The report's sections as tables with Vietnamese headings, shared by every renderer.

Markdown, XLSX and HTML lay out the same :class:`Section` and :class:`Table`
objects, so a column, its heading and its number are defined once. Cells keep
typed values (int, date, share); each renderer formats them its own way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from reports.labels import (
    GRANULARITY_LABELS,
    GROUP_LABELS,
    HEALTH_LABELS,
    SECTION_TITLES,
    STATUS_LABELS,
    days_to_text,
    fmt_change_pct,
    fmt_date,
    fmt_datetime,
    fmt_int,
    fmt_pct,
    fmt_score,
    fmt_signed,
    period_label,
    period_word,
    short_name,
)
from reports.model import Report, UnitRow

CellKind = Literal["text", "int", "signed", "pct", "change_pct", "date", "datetime", "score",
                   "trend"]
Mark = Literal["gap", "unverified", "failing", "muted", "strong"]


@dataclass(frozen=True)
class Column:
    header: str
    kind: CellKind = "text"
    width: int = 12            # XLSX width, in characters
    tooltip: str = ""          # the full name behind a short heading
    vertical: bool = False     # HTML: a narrow count column with a rotated heading


@dataclass(frozen=True)
class Cell:
    value: Any
    href: str | None = None
    mark: Mark | None = None


@dataclass
class Table:
    name: str                  # an Excel table name: ASCII, unique in the workbook
    title: str
    columns: list[Column]
    rows: list[list[Cell]]
    empty_text: str = "Không có dữ liệu."
    note: str = ""
    groups: dict[int, str] = field(default_factory=dict)   # row index → heading row (HTML)


@dataclass
class Section:
    key: str
    title: str
    sheet: str                 # XLSX sheet name (at most 31 characters)
    tables: list[Table] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)


def format_cell(cell: Cell, kind: CellKind) -> str:
    """A cell as text, the Vietnamese way."""
    value = cell.value
    if value is None:
        return "–"
    if kind == "text":
        if isinstance(value, datetime):
            return fmt_datetime(value)
        if isinstance(value, date):
            return fmt_date(value)
        return str(value)
    formatters: dict[str, Callable[[Any], str]] = {
        "int": fmt_int, "signed": fmt_signed, "pct": fmt_pct, "change_pct": fmt_change_pct,
        "date": fmt_date, "datetime": fmt_datetime, "score": fmt_score, "trend": text_sparkline,
    }
    formatter = formatters.get(kind)
    return formatter(value) if formatter else str(value)


_BLOCKS = "▁▂▃▄▅▆▇█"
MAX_TEXT_SPARK = 24


def text_sparkline(values: list[int]) -> str:
    """Counts as block characters (summed into at most 24 buckets), then the last value."""
    if not values:
        return "–"
    if len(values) > MAX_TEXT_SPARK:
        size = -(-len(values) // MAX_TEXT_SPARK)
        values = [sum(values[i:i + size]) for i in range(0, len(values), size)]
    top = max(values)
    bars = "".join(" " if v == 0 else _BLOCKS[min(7, (v * 8 - 1) // top)] if top else " "
                   for v in values)
    return f"{bars} ({fmt_int(values[-1])})"


def _c(value: Any, **kwargs: Any) -> Cell:
    return Cell(value, **kwargs)


def _words(report: Report) -> tuple[str, str]:
    word = period_word(report.kind)
    return f"{word.capitalize()} này", f"{word.capitalize()} trước"


# ------------------------------------------------------------------ 1. summary


def summary_section(report: Report) -> Section:
    this, last = _words(report)
    t = report.totals
    figures = Table(
        name="TongQuan", title="Số liệu chính",
        columns=[Column("Chỉ số", width=34), Column(this, "int", 12),
                 Column(last, "int", 12), Column("Thay đổi", "signed", 10),
                 Column("Thay đổi %", "change_pct", 11)],
        rows=[
            [_c("Tin bài thu thập"), _c(t.items), _c(t.previous_items), _c(t.items_change),
             _c(t.items_change_pct)],
            [_c("Tin bài thuộc phạm vi kế hoạch"), _c(t.relevant), _c(t.previous_relevant),
             _c(t.relevant_change), _c(t.relevant_change_pct)],
            [_c("Tin bài chưa gắn nhãn"), _c(t.untagged), _c(None), _c(None), _c(None)],
        ])
    share = Table(
        name="TyLe", title="Tỷ lệ thuộc phạm vi kế hoạch",
        columns=[Column("Chỉ số", width=34), Column(this, "pct", 12), Column(last, "pct", 12)],
        rows=[[_c("Tỷ lệ tin bài thuộc phạm vi kế hoạch"), _c(t.relevant_share),
               _c(t.previous_relevant_share)]])
    info_rows: list[list[Cell]] = [
        [_c("Kế hoạch"), _c(report.plan_name)],
        [_c("Giai đoạn"), _c(report.phase or "ngoài các giai đoạn của kế hoạch")],
        [_c("Từ ngày"), _c(report.date_from)],
        [_c("Đến ngày"), _c(report.date_to)],
        [_c("So sánh với"), _c(f"{fmt_date(report.previous_from)} – "
                               f"{fmt_date(report.previous_to)}")],
        [_c("Múi giờ"), _c(report.timezone)],
    ]
    if report.kind == "range":
        info_rows.append([_c("Chia theo"), _c(GRANULARITY_LABELS[report.granularity])])
    if report.unit:
        info_rows.append([_c("Đơn vị"), _c(report.unit_name or report.unit)])
    info_rows.append([_c("Thời điểm lập báo cáo"), _c(report.generated_at)])
    info = Table(name="ThongTin", title="Thông tin báo cáo",
                 columns=[Column("Mục", width=34), Column("Giá trị", width=60)], rows=info_rows)
    return Section("summary", SECTION_TITLES["summary"], "Tổng quan",
                   tables=[figures, share, info], paragraphs=list(report.highlights))


# ------------------------------------------------------------------ 2. themes


def themes_section(report: Report) -> Section:
    this, last = _words(report)
    trend_header = ("Xu hướng 8 tuần" if report.kind == "weekly"
                    else f"Diễn biến theo {GRANULARITY_LABELS[report.granularity]}")
    columns = [Column("Chủ đề", width=48), Column("Mục", width=8), Column("Chủ đề lớn", width=10),
               Column(this, "int", 10), Column(last, "int", 10),
               Column("Thay đổi", "signed", 9), Column("Thay đổi %", "change_pct", 10),
               Column(trend_header, "trend", 20),
               Column("Đơn vị đưa tin", "int", 13), Column("Đơn vị theo dõi", "int", 13),
               Column("Tỷ lệ đơn vị", "pct", 11)]
    rows = [[_c(t.name, mark="strong" if t.major else None), _c(t.ref),
             _c("có" if t.major else ""), _c(t.items), _c(t.previous), _c(t.change),
             _c(t.change_pct), _c(t.trend), _c(t.units_covering), _c(t.units_total),
             _c(t.units_share)] for t in report.themes]
    majors = len(report.major_themes)
    groups = {0: "Các chủ đề lớn, trọng tâm"} if majors else {}
    if majors < len(report.themes):
        groups[majors] = "Các chủ đề khác"
    table = Table(name="ChuDe", title="Tin bài theo chủ đề (các chủ đề lớn trước)",
                  columns=columns, rows=rows, groups=groups,
                  note="Đơn vị đưa tin: số đơn vị có trách nhiệm trong kế hoạch (Mục IV) "
                       "có ít nhất một tin bài về chủ đề; đơn vị theo dõi: số đơn vị có "
                       "trách nhiệm đã có nguồn được theo dõi.")
    return Section("themes", SECTION_TITLES["themes"], "Chủ đề", tables=[table])


def periods_section(report: Report) -> Section:
    theme_columns = [Column(short_name(t.name, 24), "int", 10, tooltip=t.name, vertical=True)
                     for t in report.themes]
    columns = [Column("Kỳ", width=16), Column("Từ ngày", "date", 12),
               Column("Đến ngày", "date", 12), Column("Tin bài", "int", 10),
               Column("Thuộc kế hoạch", "int", 12), *theme_columns]
    rows = [[_c(period_label(p.key, report.granularity)), _c(p.date_from), _c(p.date_to),
             _c(p.items), _c(p.relevant), *(_c(p.themes.get(t.id, 0)) for t in report.themes)]
            for p in report.periods]
    title = ("Tám tuần gần nhất" if report.kind == "weekly"
             else f"Theo {GRANULARITY_LABELS[report.granularity]}")
    table = Table(name="DienBien", title=title, columns=columns, rows=rows)
    return Section("periods", SECTION_TITLES["periods"], "Diễn biến", tables=[table])


# ------------------------------------------------------------------ 3. units


def _unit_note(unit: UnitRow, report: Report) -> str:
    parts = []
    if unit.gaps:
        parts.append("chưa có tin về: " + "; ".join(short_name(report.theme_name(g))
                                                    for g in unit.gaps))
    if unit.failing_sources:
        parts.append("nguồn lỗi: " + ", ".join(unit.failing_sources))
    if unit.unverified_gaps:
        parts.append("không xác định được (nguồn chưa thu thập tốt): " + "; ".join(
            short_name(report.theme_name(g)) for g in unit.unverified_gaps))
    if unit.silent:
        parts.insert(0, "không đăng tin bài nào")
    return "; ".join(parts)


def _theme_cell(unit: UnitRow, theme_id: str) -> Cell:
    count = unit.themes.get(theme_id, 0)
    if theme_id in unit.gaps:
        return _c(count, mark="gap")
    if theme_id in unit.unverified_gaps:
        return _c(count, mark="unverified")
    return _c(count, mark="muted" if count == 0 else None)


def _unit_table(report: Report, units: list[UnitRow], name: str, title: str,
                note: str = "") -> Table:
    this, last = _words(report)
    columns = [Column("Đơn vị", width=40), Column("Tình trạng nguồn", width=22),
               Column(this, "int", 9), Column(last, "int", 9),
               Column("Thuộc kế hoạch", "int", 10),
               *(Column(short_name(t.name, 24), "int", 9, tooltip=t.name, vertical=True)
                 for t in report.themes),
               Column("Ghi chú", width=50)]
    rows = [[_c(u.name), _c(STATUS_LABELS[u.status],
                             mark="failing" if u.status in ("failing", "partial") else None),
             _c(u.items), _c(u.previous), _c(u.relevant),
             *(_theme_cell(u, t.id) for t in report.themes), _c(_unit_note(u, report))]
            for u in units]
    return Table(name=name, title=title, columns=columns, rows=rows, note=note)


def units_section(report: Report) -> Section:
    responsible, reference = report.responsible_units, report.reference_units
    monitored = [u for u in responsible if u.status != "not_monitored"]
    tables = [_unit_table(
        report, monitored, "DonVi", "Đơn vị có trách nhiệm (Mục IV) × chủ đề",
        note="Ô đỏ: đơn vị không có tin bài về chủ đề lớn trong khi mọi nguồn của đơn vị "
             "được thu thập tốt (thiếu tin). Ô xám gạch: không xác định được vì nguồn của "
             "đơn vị bị lỗi hoặc chưa được thu thập — không tính là thiếu tin.")]
    this, _ = _words(report)
    gap_units = [u for u in responsible if u.gaps]
    tables.append(Table(
        name="ThieuTin", title="Đơn vị chưa có tin bài về chủ đề lớn",
        columns=[Column("Đơn vị", width=40), Column(this, "int", 9),
                 Column("Chủ đề lớn chưa có tin", width=70)],
        rows=[[_c(u.name), _c(u.items), _c("; ".join(report.theme_name(g) for g in u.gaps))]
              for u in gap_units],
        empty_text="Mọi đơn vị được theo dõi đều có tin bài về các chủ đề lớn."))
    failing_units = [u for u in responsible if u.failing_sources or u.status in (
        "failing", "partial", "not_crawled")]
    failing_rows = []
    for u in failing_units:
        bad = [s for s in u.sources if s.configured and s.health not in ("ok", "import",
                                                                         "disabled")]
        for s in bad:
            failing_rows.append([_c(u.name), _c(s.name), _c(HEALTH_LABELS[s.health],
                                                            mark="failing"),
                                 _c(s.consecutive_failures), _c(s.last_success),
                                 _c(s.last_error or "")])
    tables.append(Table(
        name="NguonLoi",
        title="Đơn vị có nguồn lỗi hoặc chưa được thu thập (tách riêng, không tính là thiếu tin)",
        columns=[Column("Đơn vị", width=40), Column("Nguồn", width=30),
                 Column("Tình trạng", width=16), Column("Lỗi liên tiếp", "int", 12),
                 Column("Lần thành công cuối", "datetime", 20),
                 Column("Lỗi gần nhất", width=50)],
        rows=failing_rows, empty_text="Mọi nguồn đều được thu thập tốt."))
    unmonitored = [u for u in responsible if u.status == "not_monitored"]
    if unmonitored:
        tables.append(Table(
            name="ChuaTheoDoi", title="Đơn vị chưa có nguồn được theo dõi",
            columns=[Column("Đơn vị", width=40), Column("Nhóm", width=20)],
            rows=[[_c(u.name), _c(GROUP_LABELS.get(u.group, u.group))] for u in unmonitored],
            note="Thêm nguồn của các đơn vị này vào config/sources.yaml để theo dõi."))
    if reference:
        tables.append(_unit_table(
            report, reference, "ThamKhao", "Báo chí tham khảo (không thuộc trách nhiệm, "
            "không tính thiếu tin)"))
    return Section("units", SECTION_TITLES["units"], "Đơn vị", tables=tables)


def sources_section(report: Report) -> Section:
    this, _ = _words(report)
    columns = [Column("Đơn vị", width=36), Column("Nguồn", width=40),
               Column("Tình trạng", width=16), Column(this, "int", 9),
               Column("Thuộc kế hoạch", "int", 10), Column("Lỗi liên tiếp", "int", 11),
               Column("Lần thành công cuối", "datetime", 19), Column("Lỗi gần nhất", width=44)]
    rows = []
    for u in report.units:
        for s in u.sources:
            health_mark: Mark | None = "failing" if s.health in ("failing", "not_crawled") else None
            rows.append([_c(u.name), _c(f"{s.name} ({s.id})"),
                         _c(HEALTH_LABELS[s.health] + ("" if s.configured else " (ngoài cấu hình)"),
                            mark=health_mark),
                         _c(s.items), _c(s.relevant), _c(s.consecutive_failures),
                         _c(s.last_success), _c(s.last_error or "")])
    table = Table(name="NguonTin", title="Theo nguồn tin trong từng đơn vị", columns=columns,
                  rows=rows, empty_text="Chưa có nguồn nào.")
    return Section("sources", SECTION_TITLES["sources"], "Nguồn tin", tables=[table])


# ------------------------------------------------------------------ 4. anniversaries


def anniversaries_section(report: Report) -> Section:
    this, _ = _words(report)
    main = Table(
        name="KyNiem", title="Ngày kỷ niệm có đợt tuyên truyền trùng với kỳ báo cáo",
        columns=[Column("Ngày kỷ niệm", width=56), Column("Ngày", "date", 12),
                 Column("Đợt từ", "date", 12), Column("Đợt đến", "date", 12),
                 Column("Số ngày", "int", 9), Column("Thời điểm", width=18),
                 Column(this, "int", 10), Column("Từ đầu đợt", "int", 11)],
        rows=[[_c(a.name), _c(a.date), _c(a.window_from), _c(a.window_to), _c(a.days_to),
               _c(days_to_text(a.days_to, a.date, report.date_from, report.date_to,
                               period_word(report.kind))),
               _c(a.items), _c(a.items_in_window)]
              for a in report.anniversaries],
        empty_text="Không có ngày kỷ niệm nào trong kỳ báo cáo.",
        note="Số ngày: từ ngày đầu kỳ báo cáo đến ngày kỷ niệm (âm: đã qua). "
             "Từ đầu đợt: tin bài từ ngày mở đợt đến hết kỳ báo cáo.")
    by_unit = Table(
        name="KyNiemDonVi", title="Theo đơn vị",
        columns=[Column("Ngày kỷ niệm", width=56), Column("Đơn vị", width=40),
                 Column(this, "int", 10), Column("Từ đầu đợt", "int", 11)],
        rows=[[_c(a.name), _c(u.name), _c(u.items), _c(u.items_in_window)]
              for a in report.anniversaries for u in a.units],
        empty_text="Chưa đơn vị nào có tin bài về các ngày kỷ niệm này.")
    return Section("anniversaries", SECTION_TITLES["anniversaries"], "Ngày kỷ niệm",
                   tables=[main, by_unit])


# ------------------------------------------------------------------ 5. top items


def top_items_section(report: Report) -> Section:
    rows = []
    for theme in report.themes:
        for rank, item in enumerate(report.top_items.get(theme.id, []), start=1):
            rows.append([_c(theme.name), _c(rank), _c(item.title, href=item.url),
                         _c(item.unit_name), _c(item.published_at), _c(item.score),
                         _c(item.url or "", href=item.url)])
    table = Table(
        name="TieuBieu", title="Tin bài có điểm cao nhất theo từng chủ đề",
        columns=[Column("Chủ đề", width=40), Column("Hạng", "int", 6),
                 Column("Tiêu đề", width=70), Column("Đơn vị", width=30),
                 Column("Ngày đăng", "datetime", 17), Column("Điểm", "score", 7),
                 Column("Liên kết", width=50)],
        rows=rows, empty_text="Không có tin bài nào thuộc các chủ đề trong kỳ.",
        note="Điểm: độ tin cậy của nhãn chủ đề (0–1); cùng điểm thì tin mới hơn đứng trước.")
    return Section("top_items", SECTION_TITLES["top_items"], "Tin bài tiêu biểu",
                   tables=[table])


# ------------------------------------------------------------------ 6. quality


def quality_section(report: Report) -> Section:
    q = report.quality
    this, _ = _words(report)
    threshold = fmt_score(q.low_confidence_threshold)
    figures = Table(
        name="ChatLuong", title="Nhãn và phản hồi",
        columns=[Column("Chỉ số", width=60), Column(this, "int", 12)],
        rows=[
            [_c("Nhãn chủ đề và ngày kỷ niệm"), _c(q.tags)],
            [_c(f"Nhãn có độ tin cậy thấp (điểm dưới {threshold})"), _c(q.low_confidence_tags)],
            [_c("Tin bài có nhãn"), _c(q.tagged_items)],
            [_c(f"Tin bài chỉ có nhãn độ tin cậy thấp (mọi nhãn dưới {threshold})"),
             _c(q.low_confidence_items)],
            [_c("Tin bài chưa gắn nhãn"), _c(q.untagged_items)],
            [_c("Phản hồi của cán bộ"), _c(q.feedback)],
            [_c("Nhãn được sửa (bỏ hoặc thêm)"), _c(q.corrections)],
            [_c("Nhãn được xác nhận"), _c(q.confirmations)],
            [_c("Tin bài được sửa nhãn"), _c(q.corrected_items)],
        ],
        note="Nhãn có điểm dưới ngưỡng được gắn dựa trên bằng chứng yếu (một cụm từ, hoặc "
             "xác suất của mô hình gần ranh giới): nên kiểm tra lại trước khi dùng số liệu.")
    names = {t.id: t.name for t in report.themes}
    names.update({a.id: a.name for a in report.anniversaries})
    by_label = Table(
        name="SuaNhan", title="Nhãn được sửa theo chủ đề / ngày kỷ niệm",
        columns=[Column("Nhãn", width=60), Column("Số lần sửa", "int", 12)],
        rows=[[_c(names.get(label, label)), _c(count)]
              for label, count in q.corrections_by_label.items()],
        empty_text="Không có nhãn nào được sửa.")
    return Section("quality", SECTION_TITLES["quality"], "Chất lượng", tables=[figures, by_label])


def sections(report: Report) -> list[Section]:
    """Every section in reading order (the XLSX sheets follow it)."""
    return [summary_section(report), themes_section(report), periods_section(report),
            units_section(report), sources_section(report), anniversaries_section(report),
            top_items_section(report), quality_section(report)]
