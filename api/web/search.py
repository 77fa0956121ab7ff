"""``/``: the search page (query box, filter chips with facet counts, result cards)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.access import page_user
from api.auth import Principal
from api.params import SORTS, page_filters, parse_int, search_query
from api.state import AppState, get_state
from api.web.common import KIND_LABELS, render
from dophu.dates import now_local

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
MAX_PAGES_LINKED = 500


def _chips(ids: list[tuple[str, str]], chosen: list[str], counts: dict[str, int],
           *, keep_zero: bool = True) -> list[dict[str, Any]]:
    chips = [{"id": i, "name": name, "count": counts.get(i, 0), "on": i in chosen}
             for i, name in ids]
    if not keep_zero:
        chips = [c for c in chips if c["count"] or c["on"]]
    return chips


def _quick_ranges(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Links that set the period, keeping the query and the other filters."""
    today = now_local().date()
    monday = today - timedelta(days=today.weekday())
    first_of_month = today.replace(day=1)
    ranges = [
        {"label": "7 ngày qua", "from": (today - timedelta(days=6)).isoformat(),
         "to": today.isoformat()},
        {"label": "Tuần này", "from": monday.isoformat(), "to": today.isoformat()},
        {"label": "Tuần trước", "from": (monday - timedelta(days=7)).isoformat(),
         "to": (monday - timedelta(days=1)).isoformat()},
        {"label": "Tháng này", "from": first_of_month.isoformat(), "to": today.isoformat()},
        {"label": "30 ngày qua", "from": (today - timedelta(days=29)).isoformat(),
         "to": today.isoformat()},
    ]
    kept = [(k, v) for k, v in pairs if k not in ("from", "to", "page")]
    for entry in ranges:
        entry["href"] = "?" + urlencode([*kept, ("from", entry["from"]), ("to", entry["to"])])
    return ranges


def _without(params: list[tuple[str, str]], key: str, value: str | None = None) -> str:
    """The query string without one filter value (a chip's "×" link)."""
    kept = [(k, v) for k, v in params if not (k == key and (value is None or v == value))
            and k != "page"]
    return "?" + urlencode(kept)


@router.get("/")
def search_page(request: Request, state: AppState = Depends(get_state),
                user: Principal | None = Depends(page_user)) -> Response:
    params = request.query_params
    filters = page_filters(state, params)
    q = (params.get("q") or "").strip()
    sort = params.get("sort") or ("relevance" if q else "date")
    page = parse_int(params.get("page"), "page", 1, 1, MAX_PAGES_LINKED)
    result = state.store.search(search_query(filters, q or None, sort, page, PAGE_SIZE))
    facets = result.facets
    plan = state.plan
    pairs = [(k, v) for k, v in params.multi_items() if v != ""]
    hits = [{
        "item": hit.item,
        "title": hit.highlights.get("title"),
        "snippet": hit.highlights.get("text"),
        "unit_name": state.unit_name(hit.item.unit),
        "source_name": state.source_name(hit.item.source),
        "themes": [(t.id, state.theme_name(t.id), t.score) for t in hit.item.themes],
        "anniversaries": [(t.id, state.anniversary_name(t.id), t.score)
                          for t in hit.item.anniversaries],
    } for hit in result.items]
    last_page = max(1, min(MAX_PAGES_LINKED, -(-result.total // PAGE_SIZE)))
    page_links = {
        "prev": _page_link(pairs, page - 1) if page > 1 else None,
        "next": _page_link(pairs, page + 1) if page < last_page else None,
    }
    active = [{"label": f"{label}: {name}", "remove": _without(pairs, key, value)}
              for key, label, ids, names in (
                  ("theme", "Chủ đề", filters.themes, state.theme_name),
                  ("anniversary", "Kỷ niệm", filters.anniversaries, state.anniversary_name),
                  ("unit", "Đơn vị", filters.units, state.unit_name),
                  ("source", "Nguồn", filters.sources, state.source_name),
                  ("kind", "Loại", filters.kinds, lambda k: KIND_LABELS.get(k, k)))
              for value in ids for name in [names(value)]]
    if filters.date_from:
        active.append({"label": f"Từ {filters.date_from.strftime('%d/%m/%Y')}",
                       "remove": _without(pairs, "from")})
    if filters.date_to:
        active.append({"label": f"Đến {filters.date_to.strftime('%d/%m/%Y')}",
                       "remove": _without(pairs, "to")})
    if filters.relevant is not None:
        active.append({"label": "Thuộc kế hoạch" if filters.relevant else "Ngoài kế hoạch",
                       "remove": _without(pairs, "relevant")})
    return render(request, "search.html", {
        "title": f"Tìm: {q}" if q else "Tìm kiếm tin bài",
        "q": q, "sort": sort, "sorts": SORTS, "filters": filters, "total": result.total,
        "page": page, "last_page": last_page, "page_links": page_links, "hits": hits,
        "active": active, "quick_ranges": _quick_ranges(pairs),
        "theme_chips": _chips([(t.id, t.name) for t in plan.themes], filters.themes,
                              facets.get("theme", {})),
        "anniversary_chips": _chips([(a.id, a.name) for a in plan.anniversaries],
                                    filters.anniversaries, facets.get("anniversary", {})),
        "unit_chips": sorted(_chips([(u.id, u.name) for u in plan.units], filters.units,
                                    facets.get("unit", {}), keep_zero=False),
                             key=lambda c: (-c["count"], c["name"])),
        "kind_chips": _chips(list(KIND_LABELS.items()), filters.kinds, facets.get("kind", {}),
                             keep_zero=False),
    }, user)


def _page_link(pairs: list[tuple[str, str]], page: int) -> str:
    kept = [(k, v) for k, v in pairs if k != "page"]
    return "?" + urlencode([*kept, ("page", str(page))])
