"""``/api/plan``, ``/healthz`` and ``/metrics``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.access import require_reader
from api.auth import Principal
from api.metrics import CONTENT_TYPE_LATEST, exposition
from api.params import bilingual
from api.routes.items import READ_ERRORS
from api.schemas import HealthOut
from api.state import AppState, get_state
from dophu.config import Plan

router = APIRouter(tags=["system"])


@router.get(
    "/api/plan", response_model=Plan, responses=READ_ERRORS,
    summary="Kế hoạch đang áp dụng / The active plan",
    description=bilingual(
        "Chủ đề, ngày kỷ niệm (ngày và cửa sổ), giai đoạn và đơn vị của kế hoạch.",
        "The plan's themes, anniversaries (dates and windows), phases and units."))
def get_plan(state: AppState = Depends(get_state),
             _reader: Principal | None = Depends(require_reader)) -> Plan:
    return state.plan


@router.get(
    "/healthz", response_model=HealthOut,
    responses={503: {"description": bilingual("Kho dữ liệu không truy cập được.",
                                              "The store is not reachable.")}},
    summary="Tình trạng dịch vụ / Liveness and store check",
    description=bilingual("Trả về ok khi kho dữ liệu trả lời.",
                          "ok when the store answers."))
def healthz(state: AppState = Depends(get_state)) -> HealthOut:
    return HealthOut(status="ok", items=state.store.count())


@router.get(
    "/metrics", response_class=Response, responses={
        **READ_ERRORS,
        200: {"description": bilingual("Chỉ số Prometheus.", "Prometheus metrics."),
              "content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}}},
    summary="Chỉ số Prometheus / Prometheus metrics",
    description=bilingual(
        "Số tin bài, lỗi thu thập theo nguồn, thời gian gắn nhãn, số và thời gian yêu cầu.",
        "Items, crawl failures per source, tagging latency, request counts and latency."))
def metrics(request: Request, _reader: Principal | None = Depends(require_reader)) -> Response:
    return Response(content=exposition(request.app.state.metrics_registry),
                    media_type=CONTENT_TYPE_LATEST)
