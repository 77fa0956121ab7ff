"""The Jinja2 environment of the web pages and the one function that renders a page.

Autoescape is on for every template; the filters below are the only places
where markup is made, and each escapes what it is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from api.auth import Principal
from api.views import safe_highlight, safe_href
from reports.labels import (
    GRANULARITY_LABELS,
    HEALTH_LABELS,
    STATUS_LABELS,
    fmt_date,
    fmt_datetime,
    fmt_int,
    fmt_score,
    period_label,
    short_name,
)

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"

KIND_LABELS = {"newspaper": "báo", "broadcaster": "phát thanh - truyền hình",
               "portal": "cổng thông tin", "organization": "tổ chức", "social": "mạng xã hội"}
ACTION_LABELS = {"confirm": "đã xác nhận", "reject": "đã bác bỏ", "add": "đã bổ sung",
                 "dismiss": "đã xác nhận không có"}
NAV = [("/", "Tìm kiếm"), ("/coverage", "Độ phủ"), ("/sources", "Nguồn tin"),
       ("/reports", "Báo cáo"), ("/review", "Xem lại nhãn")]


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env = templates.env
    env.autoescape = True
    env.trim_blocks = True
    env.lstrip_blocks = True
    env.filters.update({
        "highlight": safe_highlight, "href": safe_href, "date": fmt_date,
        "datetime": fmt_datetime, "num": fmt_int, "score": fmt_score,
        "short": short_name, "period": period_label,
    })
    env.globals.update({
        "KIND_LABELS": KIND_LABELS, "HEALTH_LABELS": HEALTH_LABELS,
        "STATUS_LABELS": STATUS_LABELS, "ACTION_LABELS": ACTION_LABELS,
        "GRANULARITY_LABELS": GRANULARITY_LABELS, "NAV": NAV,
    })
    return templates


def render(request: Request, template: str, context: dict[str, Any],
           user: Principal | None, status_code: int = 200) -> Response:
    """A page with the signed-in user (and their CSRF value for forms)."""
    templates: Jinja2Templates = request.app.state.templates
    state = request.app.state.dophu
    return templates.TemplateResponse(request, template, {
        **context, "user": user, "csrf": user.csrf if user else "",
        "plan": state.plan, "path": request.url.path,
        "can_sign_in": not state.tokens.empty,
    }, status_code=status_code)
