"""Errors as answers: 422 for bad parameters and store query errors, 503 when the store is
down, never a traceback. JSON for the API, a Vietnamese page for the web pages."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from store import QueryError, StoreError

log = logging.getLogger("dophu.api")

_JSON_PATHS = ("/api/", "/healthz", "/metrics", "/openapi.json")
_TITLES = {400: "Yêu cầu không hợp lệ", 401: "Cần đăng nhập", 403: "Không có quyền",
           404: "Không tìm thấy", 405: "Phương thức không được hỗ trợ",
           409: "Không thực hiện được", 413: "Dữ liệu gửi lên quá lớn",
           422: "Tham số không hợp lệ", 500: "Lỗi máy chủ", 503: "Kho dữ liệu không sẵn sàng"}


def wants_json(request: Request) -> bool:
    return request.url.path.startswith(_JSON_PATHS)


def _messages(errors: list[dict[str, Any]]) -> list[str]:
    out = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ()) if part not in ("query", "body",
                                                                            "path")]
        out.append(f"{'.'.join(loc) + ': ' if loc else ''}{error.get('msg', 'invalid')}")
    return out


def _page(request: Request, status: int, messages: list[str],
          headers: dict[str, str] | None = None) -> Response:
    templates = request.app.state.templates
    return templates.TemplateResponse(
        request, "error.html",
        {"status": status, "title": _TITLES.get(status, "Lỗi"), "messages": messages},
        status_code=status, headers=headers)


def _trim(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Errors without pydantic's ``url`` and ``ctx`` noise, inputs shortened."""
    trimmed = []
    for error in errors:
        entry = {k: v for k, v in error.items() if k in ("type", "loc", "msg", "input")}
        if isinstance(entry.get("input"), str) and len(entry["input"]) > 200:
            entry["input"] = entry["input"][:200] + "…"
        elif isinstance(entry.get("input"), (dict, list)) and len(str(entry["input"])) > 500:
            entry.pop("input")
        trimmed.append(entry)
    return trimmed


async def validation_error(request: Request, exc: RequestValidationError) -> Response:
    errors = _trim(list(exc.errors()))
    if wants_json(request):
        return JSONResponse(status_code=422, content=jsonable_encoder(
            {"detail": errors, "message": "; ".join(_messages(errors))}))
    return _page(request, 422, _messages(errors))


async def query_error(request: Request, exc: Exception) -> Response:
    message = str(exc)
    if wants_json(request):
        return JSONResponse(status_code=422, content={
            "detail": [{"type": "query_error", "loc": ["query"], "msg": message}],
            "message": message})
    return _page(request, 422, [message])


async def store_error(request: Request, exc: Exception) -> Response:
    log.error("store error on %s: %s", request.url.path, exc)
    message = "the store is not available; try again later"
    if wants_json(request):
        return JSONResponse(status_code=503, content={"detail": message})
    return _page(request, 503, ["Kho dữ liệu tạm thời không truy cập được, vui lòng thử lại."])


async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    headers = getattr(exc, "headers", None)
    if wants_json(request) or exc.status_code in (304,):
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail},
                            headers=headers)
    return _page(request, exc.status_code, [str(exc.detail)], headers=headers)


async def unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    if wants_json(request):
        return JSONResponse(status_code=500, content={"detail": "internal error"})
    return _page(request, 500, ["Đã có lỗi không mong muốn; lỗi đã được ghi lại."])


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(QueryError, query_error)
    app.add_exception_handler(StoreError, store_error)
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, unexpected_error)
