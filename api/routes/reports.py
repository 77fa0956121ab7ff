"""``/api/reports/weekly`` and ``/api/reports/range``: the reports area's reports, rendered.

The API builds nothing itself: :func:`reports.build.build_weekly` /
:func:`reports.build.build_range` make the report and
:func:`reports.render.render` turns it into JSON, HTML, XLSX or Markdown.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from api.access import require_reader
from api.auth import Principal
from api.middleware import REPORT_CSP
from api.params import bilingual, check_day, check_ids, check_period, invalid
from api.routes.items import READ_ERRORS
from api.state import AppState, get_state

router = APIRouter(prefix="/api/reports", tags=["reports"])

ReportFormat = Literal["json", "html", "xlsx", "md"]
WEEK_PATTERN = r"^\d{4}-W\d{2}$"
REPORT_RESPONSES: dict[int | str, dict] = {
    **READ_ERRORS,
    200: {"description": bilingual("Báo cáo theo định dạng đã chọn.",
                                   "The report in the chosen format."),
          "content": {"application/json": {"schema": {"type": "object"}},
                      "text/html": {"schema": {"type": "string"}},
                      "text/markdown": {"schema": {"type": "string"}},
                      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                          "schema": {"type": "string", "format": "binary"}}}},
}
FORMAT_QUERY = Query("json", description=bilingual(
    "Định dạng: json, html (trang in được), xlsx (bảng tính), md (Markdown).",
    "Format: json, html (printable page), xlsx (spreadsheet), md (Markdown)."))
UNIT_QUERY = Query(None, max_length=100, description=bilingual(
    "Chỉ một đơn vị (báo cáo gửi lãnh đạo đơn vị).", "Only this unit of the plan."))
DOWNLOAD_QUERY = Query(False, description=bilingual(
    "Tải về dưới dạng tệp (Content-Disposition: attachment).",
    "Send as a file download (Content-Disposition: attachment)."))


def report_response(report: object, fmt: str, download: bool) -> Response:
    from reports.render import MEDIA_TYPES, filename, render

    body = render(report, fmt)  # type: ignore[arg-type]
    headers = {"Cache-Control": "no-store"}
    name = filename(report, fmt)  # type: ignore[arg-type]
    if download or fmt == "xlsx":
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    else:
        headers["Content-Disposition"] = f'inline; filename="{name}"'
    if fmt == "html":
        headers["Content-Security-Policy"] = REPORT_CSP
    return Response(content=body, media_type=MEDIA_TYPES[fmt], headers=headers)


def _unit(state: AppState, unit: str | None) -> str | None:
    chosen = check_ids(state, "unit", [unit] if unit else [], "unit")
    return chosen[0] if chosen else None


def weekly_report(state: AppState, week: str | None, unit: str | None) -> object:
    from reports.build import build_weekly

    if week is not None:
        year = int(week[:4])
        if not 1990 <= year <= 2100:
            raise invalid("week", f"week {week!r} is outside 1990–2100", week)
    return build_weekly(state.store, state.plan, state.sources, week=week,
                        unit=_unit(state, unit))


def range_report(state: AppState, date_from: date, date_to: date, granularity: str,
                 unit: str | None) -> object:
    from reports.build import build_range

    check_day(date_from, "from")
    check_day(date_to, "to")
    check_period(date_from, date_to)
    return build_range(state.store, state.plan, state.sources, date_from, date_to,
                       granularity=granularity, unit=_unit(state, unit))  # type: ignore[arg-type]


@router.get(
    "/weekly", response_class=Response, responses=REPORT_RESPONSES,
    summary="Báo cáo tuần / The weekly report",
    description=bilingual(
        "Báo cáo độ phủ một tuần ISO (mặc định: tuần đầy đủ gần nhất, giờ Việt Nam): chủ đề, "
        "đơn vị và khoảng trống, ngày kỷ niệm, tin bài tiêu biểu.",
        "The coverage report of one ISO week (default: the last full week, "
        "Asia/Ho_Chi_Minh): themes, units and gaps, anniversaries, top items."))
def get_weekly(
    state: AppState = Depends(get_state),
    _reader: Principal | None = Depends(require_reader),
    week: str | None = Query(None, pattern=WEEK_PATTERN, description=bilingual(
        "Tuần ISO, ví dụ 2025-W18.", "ISO week, e.g. 2025-W18.")),
    format: ReportFormat = FORMAT_QUERY,  # noqa: A002 - the public parameter name
    unit: str | None = UNIT_QUERY,
    download: bool = DOWNLOAD_QUERY,
) -> Response:
    return report_response(weekly_report(state, week, unit), format, download)


@router.get(
    "/range", response_class=Response, responses=REPORT_RESPONSES,
    summary="Báo cáo theo khoảng thời gian / A report for any period",
    description=bilingual(
        "Cùng báo cáo cho một khoảng bất kỳ (một tháng, một giai đoạn), chuỗi thời gian theo "
        "ngày, tuần hoặc tháng; so sánh với khoảng liền trước.",
        "The same report for any period (a month, a phase), its time series by day, week or "
        "month; compared with the period just before."))
def get_range(
    state: AppState = Depends(get_state),
    _reader: Principal | None = Depends(require_reader),
    date_from: date = Query(alias="from", description=bilingual(
        "Từ ngày (YYYY-MM-DD).", "First local day, inclusive.")),
    date_to: date = Query(alias="to", description=bilingual(
        "Đến ngày (YYYY-MM-DD).", "Last local day, inclusive.")),
    granularity: Literal["day", "week", "month"] = Query("week", description=bilingual(
        "Chuỗi thời gian theo day, week hoặc month.", "Time series by day, week or month.")),
    format: ReportFormat = FORMAT_QUERY,  # noqa: A002 - the public parameter name
    unit: str | None = UNIT_QUERY,
    download: bool = DOWNLOAD_QUERY,
) -> Response:
    return report_response(range_report(state, date_from, date_to, granularity, unit), format,
                           download)
