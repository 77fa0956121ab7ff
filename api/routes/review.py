"""``/api/review``: the (item, label) pairs the classifier is least sure of, to confirm or not."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query

from api.access import require_reader
from api.auth import Principal
from api.params import bilingual, checked_filters, invalid
from api.routes.items import READ_ERRORS
from api.schemas import ReviewResponse
from api.state import AppState, get_state
from classifier.review import (
    DEFAULT_MAX_DISTANCE,
    DEFAULT_MAX_ITEMS,
    ReviewQueue,
    build_queue,
    default_period,
)
from dophu.dates import now_local
from dophu.models import SourceKind
from store.base import Filters

router = APIRouter(prefix="/api", tags=["review"])

MAX_ITEMS = 20_000
MAX_LIMIT = 500


def review_queue(state: AppState, *, date_from: date | None = None,
                 date_to: date | None = None, labels: list[str] | None = None,
                 sources: list[str] | None = None, units: list[str] | None = None,
                 kinds: list[str] | None = None, limit: int = 50,
                 max_items: int = DEFAULT_MAX_ITEMS,
                 max_distance: float = DEFAULT_MAX_DISTANCE) -> ReviewQueue:
    """The checked request, run (shared by the JSON route and the web page)."""
    date_from, date_to = default_period(date_from, date_to, now_local().date())
    checked = checked_filters(state, sources=sources, units=units, kinds=kinds,
                              date_from=date_from, date_to=date_to)
    wanted = list(dict.fromkeys(labels or []))
    known = set(state.known_ids("theme")) | set(state.known_ids("anniversary"))
    for label in wanted:
        if label not in known:
            raise invalid("label", f"unknown label id {label[:80]!r} in plan {state.plan.id!r} "
                                   "(see /api/plan)", label)
    filters = Filters(**checked.store_filters())
    return build_queue(state.store, state.tagger(), filters, limit=limit,
                       labels=wanted or None, max_items=max_items, max_distance=max_distance)


def as_response(state: AppState, queue: ReviewQueue) -> ReviewResponse:
    return ReviewResponse.model_validate(queue.as_json(state.label_name))


@router.get(
    "/review", response_model=ReviewResponse, responses=READ_ERRORS,
    summary="Hàng đợi xem lại / The review queue",
    description=bilingual(
        "Các cặp (tin bài, nhãn) mà bộ phân loại hiện tại phân vân nhất: điểm nằm sát ngưỡng "
        "của nhãn (trên hoặc dưới), trong số tin mới nhất của kỳ, bỏ qua các cặp đã có người "
        "trả lời. Trả lời bằng POST /api/items/{id}/feedback: confirm/reject khi tin đã mang "
        "nhãn (stored), add/dismiss khi chưa. Các câu trả lời được dùng khi huấn luyện lại.",
        "The (item, label) pairs the current classifier is least sure of: scores just above "
        "or just below the label's threshold, among the period's newest items, leaving out "
        "pairs somebody has answered. Answer with POST /api/items/{id}/feedback: confirm or "
        "reject when the stored item carries the tag (stored), add or dismiss when it does "
        "not. The answers are used the next time the classifier is trained."))
def get_review(
    state: AppState = Depends(get_state),
    _reader: Principal | None = Depends(require_reader),
    date_from: date | None = Query(None, alias="from", description=bilingual(
        "Từ ngày (YYYY-MM-DD); mặc định 30 ngày gần nhất.",
        "First local day; default: the last 30 days.")),
    date_to: date | None = Query(None, alias="to", description=bilingual(
        "Đến ngày (YYYY-MM-DD).", "Last local day, inclusive.")),
    label: list[str] | None = Query(None, description=bilingual(
        "Chỉ các nhãn này (mã chủ đề hoặc ngày kỷ niệm).", "Only these label ids.")),
    source: list[str] | None = Query(None, description=bilingual("Mã nguồn.", "Source id.")),
    unit: list[str] | None = Query(None, description=bilingual("Mã đơn vị.", "Unit id.")),
    kind: list[SourceKind] | None = Query(None, description=bilingual(
        "Loại nguồn.", "Source kind.")),
    limit: int = Query(50, ge=1, le=MAX_LIMIT, description=bilingual(
        "Số cặp trả về.", "Pairs returned.")),
    max_items: int = Query(DEFAULT_MAX_ITEMS, ge=1, le=MAX_ITEMS, description=bilingual(
        "Số tin mới nhất được chấm lại.", "Newest items scored.")),
    max_distance: float = Query(DEFAULT_MAX_DISTANCE, ge=0.0, le=10.0, description=bilingual(
        "Khoảng cách tối đa tới ngưỡng (log-odds).",
        "Largest distance to the threshold (log-odds).")),
) -> ReviewResponse:
    queue = review_queue(state, date_from=date_from, date_to=date_to, labels=label,
                         sources=source, units=unit, kinds=list(kind or []), limit=limit,
                         max_items=max_items, max_distance=max_distance)
    return as_response(state, queue)
