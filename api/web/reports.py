"""``/reports``: pick a week or a period (and a unit), view the report, download it."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.access import page_user
from api.auth import Principal
from api.params import GRANULARITIES, check_ids, check_period, invalid, parse_day
from api.state import AppState, get_state
from api.web.common import render
from api.web.coverage import chosen_week
from dophu.dates import now_local

router = APIRouter(include_in_schema=False)

FORMAT_NAMES = [("html", "HTML (in được)"), ("xlsx", "Excel (XLSX)"), ("md", "Markdown"),
                ("json", "JSON")]


@router.get("/reports")
def reports_page(request: Request, state: AppState = Depends(get_state),
                 user: Principal | None = Depends(page_user)) -> Response:
    params = request.query_params
    today = now_local().date()
    mode = "range" if params.get("mode") == "range" else "weekly"
    unit_values = check_ids(state, "unit", [params.get("unit") or ""], "unit")
    unit = unit_values[0] if unit_values else None
    query: dict[str, str] = {}
    if mode == "weekly":
        week = chosen_week(params.get("week"), today)
        query = {"week": week}
        heading = f"Báo cáo tuần {int(week.split('-W')[1])}/{week[:4]}"
        date_from = date_to = None
        granularity = "week"
    else:
        week = chosen_week(None, today)
        date_from = parse_day(params.get("from"), "from") or today.replace(day=1)
        date_to = parse_day(params.get("to"), "to") or today
        check_period(date_from, date_to)
        granularity = params.get("granularity") or "week"
        if granularity not in GRANULARITIES:
            raise invalid("granularity", f"one of {', '.join(GRANULARITIES)}", granularity)
        query = {"from": date_from.isoformat(), "to": date_to.isoformat(),
                 "granularity": granularity}
        heading = (f"Báo cáo từ {date_from.strftime('%d/%m/%Y')} "
                   f"đến {date_to.strftime('%d/%m/%Y')}")
    if unit:
        query["unit"] = unit
        heading += f" — {state.unit_name(unit)}"
    base = f"/api/reports/{mode}?"
    view_url = base + urlencode({**query, "format": "html"})
    downloads = [{"label": label, "url": base + urlencode({**query, "format": fmt,
                                                           "download": "true"})}
                 for fmt, label in FORMAT_NAMES]
    return render(request, "reports.html", {
        "title": "Báo cáo", "mode": mode, "week": week, "unit": unit, "heading": heading,
        "date_from": (date_from or today.replace(day=1)).isoformat(),
        "date_to": (date_to or today).isoformat(), "granularity": granularity,
        "view_url": view_url, "downloads": downloads,
        "last_week": chosen_week(None, today),
        "prev_week_start": (today - timedelta(days=today.weekday() + 7)).isoformat(),
        "shown": bool(params),
    }, user)
