"""``/coverage``: the unit × theme heatmap of a week with its gaps, a trend chart per theme,
and anniversary countdowns.

The figures are the weekly report's (:func:`reports.build.build_weekly`), so the
page and the report can never disagree about a gap; the charts are the
reports' matplotlib sparklines, inlined as SVG.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from markupsafe import Markup

from api.access import page_user
from api.auth import Principal
from api.params import invalid
from api.state import AppState, get_state
from api.views import heat_level
from api.web.common import render
from dophu.dates import iso_week_key, now_local, parse_iso_week
from store.base import Filters

router = APIRouter(include_in_schema=False)

_WEEK = re.compile(r"^\d{4}-W\d{2}$")


@lru_cache(maxsize=512)
def _sparkline(values: tuple[int, ...], prefix: str, title: str) -> str:
    from reports.charts import sparkline

    return sparkline(list(values), prefix, title)


@lru_cache(maxsize=64)
def _overview(labels: tuple[str, ...], items: tuple[int, ...],
                     relevant: tuple[int, ...], title: str) -> str:
    from reports.charts import overview_chart

    return overview_chart(list(labels), list(items), list(relevant), "tong-quan", title)


def chosen_week(value: str | None, today: date) -> str:
    """The week asked for (YYYY-Www), else the last full week."""
    if value is None or not value.strip():
        monday = today - timedelta(days=today.weekday())
        return iso_week_key(monday - timedelta(days=7))
    value = value.strip()
    if not _WEEK.match(value):
        raise invalid("week", f"not an ISO week like 2025-W18: {value[:20]!r}", value)
    try:
        monday, _ = parse_iso_week(value)
    except ValueError as exc:
        raise invalid("week", str(exc), value) from None
    if not 1990 <= monday.year <= 2100:
        raise invalid("week", f"week {value!r} is outside 1990–2100", value)
    return iso_week_key(monday)


def countdown(day: date, today: date) -> str:
    days = (day - today).days
    if days > 0:
        return f"còn {days} ngày"
    if days == 0:
        return "hôm nay"
    return f"đã qua {-days} ngày"


@router.get("/coverage")
def coverage_page(request: Request, state: AppState = Depends(get_state),
                  user: Principal | None = Depends(page_user)) -> Response:
    from reports.build import build_weekly
    from reports.labels import short_period_label

    today = now_local().date()
    week = chosen_week(request.query_params.get("week"), today)
    report = build_weekly(state.store, state.plan, state.sources, week=week, today=today)
    monday, _ = parse_iso_week(week)
    themes = report.themes
    units = report.responsible_units + report.reference_units
    top = max([count for u in units for count in u.themes.values()] + [0])
    rows: list[dict[str, Any]] = []
    for unit in units:
        cells = []
        for theme in themes:
            count = unit.themes.get(theme.id, 0)
            gap = "gap" if theme.id in unit.gaps else (
                "unverified" if theme.id in unit.unverified_gaps else "")
            cells.append({"theme": theme, "count": count, "level": heat_level(count, top),
                          "gap": gap})
        rows.append({"unit": unit, "cells": cells})
    labels = tuple(short_period_label(p.key, "week") for p in report.periods)
    trends = [{
        "theme": theme,
        "svg": Markup(_sparkline(tuple(theme.trend), f"xu-huong-{index}",
                                 f"{theme.name}: {', '.join(map(str, theme.trend))}")),
    } for index, theme in enumerate(themes)]
    overview = Markup(_overview(labels, tuple(p.items for p in report.periods),
                                tuple(p.relevant for p in report.periods),
                                "Số tin bài 8 tuần gần nhất"))
    sunday = monday + timedelta(days=6)
    return render(request, "coverage.html", {
        "title": f"Độ phủ tuần {int(week.split('-W')[1])}/{week[:4]}",
        "report": report, "week": week, "monday": monday,
        "sunday": sunday,
        "prev_week": iso_week_key(monday - timedelta(days=7)),
        "next_week": iso_week_key(monday + timedelta(days=7)),
        "this_week": iso_week_key(today), "themes": themes, "rows": rows,
        "trends": trends, "overview": overview, "labels": labels,
        "anniversaries": countdowns(state, monday, sunday, today),
    }, user)


def countdowns(state: AppState, monday: date, sunday: date, today: date
               ) -> list[dict[str, Any]]:
    """Every anniversary of the plan: days to go (from today), its items in the chosen week
    and since its window opened (up to the week's end); the coming ones first."""
    out = []
    for anniversary in state.plan.anniversaries:
        week = state.store.count(Filters(anniversaries=[anniversary.id], date_from=monday,
                                         date_to=sunday))
        window_end = min(anniversary.window_end, sunday)
        in_window = state.store.count(Filters(
            anniversaries=[anniversary.id], date_from=anniversary.window_start,
            date_to=window_end)) if anniversary.window_start <= window_end else 0
        out.append({"anniversary": anniversary, "countdown": countdown(anniversary.date, today),
                    "past": anniversary.date < today, "week_items": week,
                    "items_in_window": in_window,
                    "window_open": anniversary.window_start <= today <= anniversary.window_end})
    out.sort(key=lambda a: (a["past"], abs((a["anniversary"].date - today).days)))
    return out
