"""``/api/coverage``: item counts grouped by theme/anniversary/unit/source/kind and period."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query

from api.access import require_reader
from api.auth import Principal
from api.params import bilingual, checked_filters, coverage_query, invalid
from api.routes.items import READ_ERRORS
from api.schemas import CoverageResponse
from api.state import AppState, get_state
from dophu.models import SourceKind
from store.base import Dimension, Filters, Interval

router = APIRouter(prefix="/api", tags=["coverage"])

MAX_ROWS = 20_000


@router.get(
    "/coverage", response_model=CoverageResponse, responses=READ_ERRORS,
    summary="Độ phủ: số tin bài theo nhóm / Coverage: counts by group",
    description=bilingual(
        "Số tin bài (kể cả bản trùng, mỗi đơn vị đăng là một lần phủ) nhóm theo bất kỳ "
        "chiều nào trong theme, anniversary, unit, source, kind và theo ngày/tuần/tháng "
        "(giờ Việt Nam), trong một khoảng thời gian và với các bộ lọc như khi tìm kiếm.",
        "Item counts (duplicates included: each unit's publication counts) grouped by any of "
        "theme, anniversary, unit, source, kind and by day/week/month (Asia/Ho_Chi_Minh), for "
        "a period and with the same filters as search."))
def get_coverage(
    state: AppState = Depends(get_state),
    _reader: Principal | None = Depends(require_reader),
    group_by: list[Dimension] | None = Query(None, description=bilingual(
        "Nhóm theo (lặp lại để nhóm theo nhiều chiều).", "Group by (repeat for several).")),
    interval: Interval | None = Query(None, description=bilingual(
        "Theo kỳ: day, week (tuần ISO), month.", "By period: day, week (ISO), month.")),
    date_from: date | None = Query(None, alias="from", description=bilingual(
        "Từ ngày (YYYY-MM-DD).", "First local day, inclusive.")),
    date_to: date | None = Query(None, alias="to", description=bilingual(
        "Đến ngày (YYYY-MM-DD).", "Last local day, inclusive.")),
    theme: list[str] | None = Query(None, description=bilingual("Mã chủ đề.", "Theme id.")),
    anniversary: list[str] | None = Query(None, description=bilingual(
        "Mã ngày kỷ niệm.", "Anniversary id.")),
    source: list[str] | None = Query(None, description=bilingual("Mã nguồn.", "Source id.")),
    unit: list[str] | None = Query(None, description=bilingual("Mã đơn vị.", "Unit id.")),
    kind: list[SourceKind] | None = Query(None, description=bilingual(
        "Loại nguồn.", "Source kind.")),
    relevant: bool | None = Query(None, description=bilingual(
        "Chỉ tin thuộc/không thuộc phạm vi kế hoạch.", "Only items in/out of scope.")),
    min_score: float = Query(0.0, ge=0.0, le=1.0, description=bilingual(
        "Điểm tối thiểu của nhãn được tính.", "Minimum score of a counted tag.")),
    duplicates: bool = Query(True, description=bilingual(
        "Tính cả bản trùng.", "Count items marked as duplicates.")),
) -> CoverageResponse:
    filters = checked_filters(state, themes=theme, anniversaries=anniversary, sources=source,
                              units=unit, kinds=list(kind or []), date_from=date_from,
                              date_to=date_to, relevant=relevant, min_score=min_score,
                              include_duplicates=duplicates)
    query = coverage_query(filters, list(group_by or []), interval)
    rows = state.store.coverage(query)
    if len(rows) > MAX_ROWS:
        raise invalid("group_by", f"{len(rows)} rows is more than {MAX_ROWS}; group by fewer "
                                  "dimensions, choose a coarser interval or a shorter period",
                      query.group_by)
    total = state.store.count(Filters(**filters.store_filters()))
    return CoverageResponse(date_from=filters.date_from, date_to=filters.date_to,
                            group_by=list(query.group_by), interval=query.interval,
                            total=total, rows=rows)
