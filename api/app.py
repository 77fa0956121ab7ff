"""The app factory: ``create_app(context)`` → the FastAPI app (JSON API + web pages).

One store per app, taken from the context with the plan, the sources and the
settings. The OpenAPI schema (``/openapi.json``) is the API's documentation; it
lists the plan's own ids for the theme/anniversary/unit/source parameters.
Swagger UI is not served: it loads scripts from a CDN, which the
Content-Security-Policy (rightly) forbids.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles

from api import errors
from api.access import SignInRequired, sign_in_redirect
from api.auth import TokenBook
from api.metrics import metrics_registry
from api.middleware import BodyLimit, RequestMetrics, SecurityHeaders
from api.routes import router as api_router
from api.state import AppState
from api.web import router as web_router
from api.web.common import make_templates
from dophu.context import Context
from store import StoreError

log = logging.getLogger("dophu.api")

STATIC_DIR = Path(__file__).resolve().parent / "static"
VERSION = "0.1.0"
ID_PARAMETERS = ("theme", "anniversary", "unit", "source")

DESCRIPTION = """\
**dophu (độ phủ)** — theo dõi mức độ tuyên truyền kế hoạch trên báo chí và trang thông tin.
JSON API: tìm kiếm tin bài, độ phủ theo chủ đề/đơn vị/kỳ, báo cáo tuần, nguồn tin, kế hoạch.

*Coverage monitoring of a communication plan in Vietnamese media: item search, coverage by
theme/unit/period, the weekly report, sources and their health, the active plan.*

- Đọc (GET) mở, trừ khi cấu hình `api.read_requires_token`. / Reads are open unless
  `api.read_requires_token` is set.
- Ghi (POST) cần `Authorization: Bearer <token>` (tokens đặt tên trong `api.tokens` hoặc
  `DOPHU_API_TOKENS="ten:token"`). / Writes need a named bearer token.
- Tham số sai → 422 với thông báo nêu rõ tham số. / Bad parameters → 422 naming the parameter.
- Thời gian theo giờ Việt Nam (Asia/Ho_Chi_Minh); tuần là tuần ISO. / Local time; ISO weeks.
"""

TAGS = [
    {"name": "items", "description": "Tin bài: tìm kiếm, chi tiết, phản hồi nhãn. / Items."},
    {"name": "coverage", "description": "Số tin bài theo nhóm và kỳ. / Coverage counts."},
    {"name": "reports", "description": "Báo cáo tuần và theo kỳ. / Reports."},
    {"name": "review", "description": "Hàng đợi xem lại nhãn. / The review queue."},
    {"name": "sources", "description": "Nguồn tin và tình trạng thu thập. / Sources."},
    {"name": "system", "description": "Kế hoạch, tình trạng, chỉ số. / Plan, health, metrics."},
]


def create_app(context: Context) -> FastAPI:
    """The app serving ``context``'s store, plan and sources."""
    settings = context.settings
    state = AppState(store=context.store, plan=context.plan, sources=list(context.sources),
                     settings=settings, tokens=TokenBook.from_settings(settings.api),
                     model_path=context.model_path)
    try:
        state.refresh_source_ids()
    except StoreError as exc:
        log.warning("store not readable at start-up (%s); source ids from sources.yaml only",
                    exc)
    if state.tokens.empty:
        log.warning("no API tokens configured: writes (feedback, crawl requests) are refused; "
                    "set DOPHU_API_TOKENS='name:token'")

    app = FastAPI(title="dophu — độ phủ", version=VERSION, description=DESCRIPTION,
                  openapi_tags=TAGS, docs_url=None, redoc_url=None)
    app.state.dophu = state
    app.state.templates = make_templates()
    app.state.metrics_registry = metrics_registry(state.store, lambda: state.sources)
    errors.install(app)
    app.add_exception_handler(SignInRequired, sign_in_redirect)
    app.include_router(api_router)
    app.include_router(web_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    # Added innermost first: metrics see everything, security headers cover every answer.
    app.add_middleware(BodyLimit)
    if settings.api.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.api.cors_origins),
                           allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"],
                           allow_credentials=False, max_age=600)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestMetrics)
    app.openapi = _plan_aware_openapi(app, state)  # type: ignore[method-assign]
    return app


def _plan_aware_openapi(app: FastAPI, state: AppState) -> Callable[[], dict[str, Any]]:
    """The schema with the plan's ids as enums, the configured page size as maximum, and
    the bearer token shown only where it is needed (writes; reads when so configured)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version,
                                 description=app.description, routes=app.routes,
                                 tags=app.openapi_tags)
            for path in schema.get("paths", {}).values():
                for method, operation in path.items():
                    for parameter in operation.get("parameters", []):
                        _narrow(parameter, state)
                    if method == "get" and not state.read_requires_token:
                        operation.pop("security", None)      # reads are open
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi


def _narrow(parameter: dict[str, Any], state: AppState) -> None:
    if parameter.get("in") != "query":
        return
    name = parameter.get("name")
    if name in ID_PARAMETERS:
        ids = state.known_ids(name)
        if ids:
            _add_enum(parameter.get("schema", {}), ids)
    elif name == "size":
        parameter.setdefault("schema", {})["maximum"] = state.max_page_size


def _add_enum(schema: dict[str, Any], ids: list[str]) -> None:
    """Puts ``enum`` on every string schema inside (array items, anyOf branches)."""
    if schema.get("type") == "string":
        schema["enum"] = list(ids)
        schema.pop("maxLength", None)
    for key in ("items",):
        if isinstance(schema.get(key), dict):
            _add_enum(schema[key], ids)
    for branch in schema.get("anyOf", []):
        _add_enum(branch, ids)
