"""``/api/sources``: sources with their crawl health, and "crawl this source now".

A crawl request does not crawl in the API process (the API reads the store,
never the crawler): it sets the source's ``SourceState.next_due`` to now and
records who asked, so the next ``dophu crawl`` / ``dophu run`` pass takes it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fastapi import APIRouter, Depends, HTTPException, Path

from api.access import require_reader, require_writer
from api.auth import Principal
from api.params import bilingual
from api.routes.items import READ_ERRORS, WRITE_ERRORS
from api.schemas import (
    CrawlRequestOut,
    HealthStatus,
    SourceHealth,
    SourceOut,
    SourcesResponse,
    WeekCount,
)
from api.state import AppState, get_state
from dophu.config import Source
from dophu.dates import iso_week_key, now_local
from dophu.models import SourceState
from store.base import CoverageQuery

router = APIRouter(prefix="/api", tags=["sources"])

WEEKS_SHOWN = 8


def health_status(source: Source | None, state: SourceState | None) -> HealthStatus:
    """Now: failing (the last pass failed), ok, import (nothing to crawl), never crawled,
    or switched off."""
    if source is not None and not source.enabled:
        return "disabled"
    if state is not None and state.consecutive_failures > 0:
        return "failing"
    if state is not None and state.last_success is not None:
        return "ok"
    if source is not None and not source.crawlable:
        return "import"
    return "not_crawled"


def source_health(source: Source | None, state: SourceState | None) -> SourceHealth:
    extra = (state.model_extra or {}) if state is not None else {}
    return SourceHealth(
        status=health_status(source, state),
        last_attempt=state.last_attempt if state else None,
        last_success=state.last_success if state else None,
        consecutive_failures=state.consecutive_failures if state else 0,
        last_error=state.last_error if state else None,
        last_run={k: v for k, v in (state.last_run if state else {}).items()
                  if isinstance(v, int)},
        next_due=state.next_due if state else None,
        crawl_requested_at=extra.get("crawl_requested_at"),
        crawl_requested_by=extra.get("crawl_requested_by"))


def recent_weeks(today: date, count: int = WEEKS_SHOWN) -> list[tuple[str, date]]:
    """The last ``count`` ISO weeks up to this one: (key, Monday), oldest first."""
    monday = today - timedelta(days=today.weekday())
    return [(iso_week_key(monday - timedelta(weeks=n)), monday - timedelta(weeks=n))
            for n in range(count - 1, -1, -1)]


def list_sources(state: AppState, today: date | None = None) -> SourcesResponse:
    """Every configured source (and any the store knows that sources.yaml no longer lists)
    with its health and its items in each of the last weeks."""
    today = today or now_local().date()
    weeks = recent_weeks(today)
    states = state.store.list_source_states()
    rows = state.store.coverage(CoverageQuery(group_by=["source"], interval="week",
                                              date_from=weeks[0][1], date_to=today))
    per_week: dict[str, dict[str, int]] = {}
    for row in rows:
        per_week.setdefault(row.keys["source"], {})[row.period or ""] = row.count
    out: list[SourceOut] = []
    for source in state.sources:
        out.append(_source_out(state, source.id, source, states.get(source.id), weeks,
                               per_week.get(source.id, {})))
    configured = {s.id for s in state.sources}
    for source_id in sorted(set(states) - configured):
        out.append(_source_out(state, source_id, None, states[source_id], weeks,
                               per_week.get(source_id, {})))
    return SourcesResponse(weeks=[key for key, _ in weeks], sources=out)


def _source_out(state: AppState, source_id: str, source: Source | None,
                source_state: SourceState | None, weeks: list[tuple[str, date]],
                counts: dict[str, int]) -> SourceOut:
    unit = source.unit if source else ""
    return SourceOut(
        id=source_id, name=source.name if source else source_id, unit=unit,
        unit_name=state.unit_name(unit) if unit else "",
        kind=source.kind if source else "portal", home=source.home if source else None,
        feeds=list(source.feeds) if source else [],
        sitemaps=list(source.sitemaps) if source else [],
        listings=list(source.listings) if source else [],
        interval=source.interval if source else "", enabled=source.enabled if source else False,
        crawlable=source.crawlable if source else False, configured=source is not None,
        health=source_health(source, source_state),
        items_per_week=[WeekCount(week=key, items=counts.get(key, 0)) for key, _ in weeks])


@router.get(
    "/sources", response_model=SourcesResponse, responses=READ_ERRORS,
    summary="Nguồn tin và tình trạng / Sources and their health",
    description=bilingual(
        "Các nguồn đã cấu hình với tình trạng thu thập (lần thành công cuối, số lần lỗi liên "
        "tiếp, lỗi gần nhất) và số tin bài mỗi tuần trong 8 tuần gần nhất.",
        "Configured sources with their crawl health (last success, consecutive failures, "
        "last error) and their items in each of the last 8 weeks."))
def get_sources(state: AppState = Depends(get_state),
                _reader: Principal | None = Depends(require_reader)) -> SourcesResponse:
    return list_sources(state)


def request_crawl(state: AppState, source_id: str, user: str,
                  now: datetime | None = None) -> CrawlRequestOut:
    """Marks the source due now, so that the next crawl pass takes it."""
    source = state.source(source_id)
    if source is None:
        raise HTTPException(status_code=404, detail=f"no source with id {source_id[:80]!r} in "
                                                    "sources.yaml")
    if not source.enabled:
        raise HTTPException(status_code=409, detail=f"source {source_id!r} is disabled "
                                                    "(enabled: false in sources.yaml)")
    if not source.crawlable:
        raise HTTPException(status_code=409, detail=f"source {source_id!r} has no home, "
                                                    "feeds, sitemaps or listings to crawl")
    now = (now or datetime.now(UTC)).astimezone(UTC)
    current = state.store.get_source_state(source_id) or SourceState(source_id=source_id)
    updated = SourceState.model_validate({
        **current.model_dump(), "next_due": now,
        "crawl_requested_at": now.isoformat(), "crawl_requested_by": user})
    state.store.put_source_state(updated)
    return CrawlRequestOut(
        source=source_id, requested_at=now, requested_by=user, next_due=now,
        message="recorded: the next 'dophu crawl' or 'dophu run' pass crawls this source")


@router.post(
    "/sources/{source_id}/crawl", response_model=CrawlRequestOut, status_code=202,
    responses={**WRITE_ERRORS,
               404: {"description": bilingual("Không có nguồn này.", "No such source.")},
               409: {"description": bilingual("Nguồn bị tắt hoặc không có gì để thu thập.",
                                              "The source is disabled or has nothing to "
                                              "crawl.")}},
    summary="Yêu cầu thu thập ngay / Ask for a crawl now",
    description=bilingual(
        "Đánh dấu nguồn đến hạn thu thập ngay (SourceState.next_due = bây giờ); lượt "
        "'dophu crawl' hoặc 'dophu run' kế tiếp sẽ thu thập nguồn này. Cần mã truy cập.",
        "Marks the source due now (SourceState.next_due = now); the next 'dophu crawl' or "
        "'dophu run' pass crawls it. The API never crawls itself. Needs a bearer token."))
def post_crawl(source_id: str = Path(min_length=1, max_length=100),
               state: AppState = Depends(get_state),
               principal: Principal = Depends(require_writer)) -> CrawlRequestOut:
    return request_crawl(state, source_id, principal.name)
