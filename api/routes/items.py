"""``/api/items``: search, one item with its duplicates and corrections, and feedback."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from api.access import require_reader, require_writer
from api.auth import Principal
from api.params import bilingual, check_size, checked_filters, invalid, search_query
from api.schemas import FeedbackIn, ItemBrief, ItemDetail, ItemOut, SearchResponse
from api.state import AppState, get_state
from dophu.dates import now_local
from dophu.models import Feedback, Item, SourceKind
from store.base import MAX_PAGE_SIZE, MAX_QUERY_CHARS, SortOrder

router = APIRouter(prefix="/api", tags=["items"])

MAX_DUPLICATES_SHOWN = 100
ITEM_ID = Path(min_length=1, max_length=200, description=bilingual(
    "Mã tin bài.", "The item id."))

READ_ERRORS: dict[int | str, dict] = {
    401: {"description": bilingual("Cần mã truy cập (khi read_requires_token bật).",
                                   "A token is needed (when read_requires_token is on).")},
    422: {"description": bilingual("Tham số không hợp lệ; thông báo nói rõ tham số nào.",
                                   "Bad parameters; the message names which.")},
}
WRITE_ERRORS: dict[int | str, dict] = {
    **READ_ERRORS,
    400: {"description": bilingual("Nội dung gửi lên không đọc được (không phải JSON UTF-8).",
                                   "The body cannot be parsed (not UTF-8 JSON).")},
    413: {"description": bilingual("Nội dung gửi lên quá lớn (tối đa 64 KiB).",
                                   "The body is larger than 64 KiB.")},
    401: {"description": bilingual("Thiếu hoặc sai mã truy cập (Authorization: Bearer).",
                                   "Missing or invalid bearer token.")},
    404: {"description": bilingual("Không có tin bài này.", "No such item.")},
}


def item_out(item: Item, highlights: dict[str, str] | None = None) -> ItemOut:
    return ItemOut.model_construct(**dict(item), highlights=highlights or {})


@router.get(
    "/items", response_model=SearchResponse, responses=READ_ERRORS,
    summary="Tìm kiếm tin bài / Search items",
    description=bilingual(
        "Tìm toàn văn (gõ có dấu hay không dấu đều được; \"cụm từ\", -loại trừ, a OR b) kèm bộ "
        "lọc theo chủ đề, ngày kỷ niệm, nguồn, đơn vị, loại, khoảng ngày (giờ Việt Nam). "
        "Trả về tổng số, tin bài (dạng item) với đoạn trích đánh dấu, và số đếm theo nhóm.",
        "Full-text search (with or without diacritics; \"phrase\", -exclude, a OR b) with "
        "filters by theme, anniversary, source, unit, kind and local dates. Returns the total, "
        "the items (item form) with highlighted snippets, and facet counts."))
def search_items(
    state: AppState = Depends(get_state),
    _reader: Principal | None = Depends(require_reader),
    q: str | None = Query(None, max_length=MAX_QUERY_CHARS, description=bilingual(
        "Từ khóa tìm kiếm.", "Words to search for.")),
    theme: list[str] | None = Query(None, description=bilingual(
        "Mã chủ đề (lặp lại để chọn nhiều).", "Theme id (repeat for any of several).")),
    anniversary: list[str] | None = Query(None, description=bilingual(
        "Mã ngày kỷ niệm.", "Anniversary id.")),
    source: list[str] | None = Query(None, description=bilingual("Mã nguồn.", "Source id.")),
    unit: list[str] | None = Query(None, description=bilingual("Mã đơn vị.", "Unit id.")),
    kind: list[SourceKind] | None = Query(None, description=bilingual(
        "Loại nguồn.", "Source kind.")),
    date_from: date | None = Query(None, alias="from", description=bilingual(
        "Từ ngày (YYYY-MM-DD, tính cả ngày này).", "First local day, inclusive.")),
    date_to: date | None = Query(None, alias="to", description=bilingual(
        "Đến ngày (YYYY-MM-DD, tính cả ngày này).", "Last local day, inclusive.")),
    relevant: bool | None = Query(None, description=bilingual(
        "Chỉ tin thuộc (true) / không thuộc (false) phạm vi kế hoạch.",
        "Only items in (true) or out of (false) the plan's scope.")),
    min_score: float = Query(0.0, ge=0.0, le=1.0, description=bilingual(
        "Điểm tối thiểu của nhãn khi lọc theo chủ đề/ngày kỷ niệm.",
        "Minimum tag score for the theme/anniversary filters.")),
    duplicates: bool = Query(True, description=bilingual(
        "Gồm cả bản trùng.", "Include items marked as duplicates.")),
    sort: SortOrder = Query("relevance", description=bilingual(
        "Sắp xếp: relevance (mức liên quan), date (mới nhất), date_asc (cũ nhất).",
        "Order: relevance, date (newest first), date_asc.")),
    page: int = Query(1, ge=1, le=10_000, description=bilingual("Trang.", "Page number.")),
    size: int = Query(20, ge=0, le=MAX_PAGE_SIZE, description=bilingual(
        "Số tin mỗi trang (tối đa theo cấu hình api.max_page_size).",
        "Items per page (at most api.max_page_size).")),
) -> SearchResponse:
    check_size(state, size)
    filters = checked_filters(state, themes=theme, anniversaries=anniversary, sources=source,
                              units=unit, kinds=list(kind or []), date_from=date_from,
                              date_to=date_to, relevant=relevant, min_score=min_score,
                              include_duplicates=duplicates)
    result = state.store.search(search_query(filters, q, sort, page, size))
    return SearchResponse(
        total=result.total, page=page, size=size,
        items=[item_out(hit.item, hit.highlights) for hit in result.items],
        facets=result.facets)


def _brief(item: Item) -> ItemBrief:
    return ItemBrief(id=item.id, title=item.title, url=item.url, source=item.source,
                     unit=item.unit, published_at=item.published_at)


def item_detail(state: AppState, item_id: str) -> ItemDetail:
    """The item with its duplicates, the item it duplicates and its corrections (404 if
    there is no such item)."""
    item = state.store.get(item_id)
    if item is None:
        raise HTTPException(status_code=404, detail=f"no item with id {item_id[:80]!r}")
    duplicates = []
    for duplicate_id in state.store.duplicates_of(item.id)[:MAX_DUPLICATES_SHOWN]:
        duplicate = state.store.get(duplicate_id)
        if duplicate is not None:
            duplicates.append(_brief(duplicate))
    original = state.store.get(item.duplicate_of) if item.duplicate_of else None
    return ItemDetail.model_construct(
        **dict(item), highlights={}, duplicates=duplicates,
        original=_brief(original) if original else None,
        corrections=state.store.list_feedback(item_id=item.id))


@router.get(
    "/items/{item_id}", response_model=ItemDetail,
    responses={**READ_ERRORS, 404: {"description": bilingual("Không có tin bài này.",
                                                             "No such item.")}},
    summary="Một tin bài / One item",
    description=bilingual(
        "Tin bài với các nhãn (điểm, bằng chứng), các bản trùng và các chỉnh sửa nhãn.",
        "The item with its tags (score, evidence), its duplicates and people's corrections."))
def get_item(item_id: str = ITEM_ID, state: AppState = Depends(get_state),
             _reader: Principal | None = Depends(require_reader)) -> ItemDetail:
    return item_detail(state, item_id)


def record_feedback(state: AppState, item_id: str, body: FeedbackIn, user: str) -> Feedback:
    """Checks the label against the plan and the item, then stores the feedback."""
    item = state.store.get(item_id)
    if item is None:
        raise HTTPException(status_code=404, detail=f"no item with id {item_id[:80]!r}")
    known = state.plan.label_ids(body.label_kind)
    if body.label not in known:
        raise invalid("label", f"unknown {body.label_kind} id {body.label[:80]!r} in plan "
                               f"{state.plan.id!r} (see /api/plan)", body.label, where="body")
    carried = {tag.id for tag in item.tags(body.label_kind)}
    if body.action in ("confirm", "reject") and body.label not in carried:
        raise invalid("label", f"the item has no {body.label_kind} tag {body.label!r} to "
                               f"{body.action}; use action 'add' for a missing tag, "
                               f"'dismiss' for a label that rightly is not there",
                      body.label, where="body")
    if body.action in ("add", "dismiss") and body.label in carried:
        raise invalid("label", f"the item already has the {body.label_kind} tag "
                               f"{body.label!r}; use 'confirm' or 'reject'",
                      body.label, where="body")
    return state.store.add_feedback(Feedback(
        item_id=item.id, label_kind=body.label_kind, label=body.label, action=body.action,
        user=user, at=now_local(), note=body.note))


@router.post(
    "/items/{item_id}/feedback", response_model=Feedback, status_code=201,
    responses=WRITE_ERRORS,
    summary="Xác nhận / bác bỏ / bổ sung nhãn — Confirm, reject or add a tag",
    description=bilingual(
        "Ghi nhận ý kiến của người dùng về một nhãn của tin bài (ai: tên của mã truy cập, "
        "khi nào: lúc này). Cần mã truy cập. Dùng để huấn luyện lại bộ phân loại.",
        "Records a person's word on one tag of the item (who: the token's name; when: now). "
        "Needs a bearer token. Used the next time the classifier is trained."))
def post_feedback(body: FeedbackIn, item_id: str = ITEM_ID,
                  state: AppState = Depends(get_state),
                  principal: Principal = Depends(require_writer)) -> Feedback:
    return record_feedback(state, item_id, body, principal.name)
