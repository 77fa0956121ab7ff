"""``/sources``: the sources' health table, and "crawl now" for a signed-in user."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from api.access import page_user
from api.auth import Principal, csrf_ok
from api.routes.sources import list_sources, request_crawl
from api.state import AppState, get_state
from api.web.common import render

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=512)
def _sparkline(values: tuple[int, ...], prefix: str, title: str) -> str:
    from reports.charts import sparkline

    return sparkline(list(values), prefix, title)


@router.get("/sources")
def sources_page(request: Request, state: AppState = Depends(get_state),
                 user: Principal | None = Depends(page_user)) -> Response:
    listing = list_sources(state)
    rows = []
    for index, source in enumerate(listing.sources):
        counts = tuple(w.items for w in source.items_per_week)
        rows.append({"source": source, "counts": counts, "last_week": counts[-2],
                     "this_week": counts[-1],
                     "svg": Markup(_sparkline(counts, f"nguon-{index}",
                                              f"{source.name}: {', '.join(map(str, counts))}"))})
    failing = sum(1 for s in listing.sources if s.health.status == "failing")
    return render(request, "sources.html", {
        "title": "Nguồn tin", "rows": rows, "weeks": listing.weeks, "failing": failing,
        "requested": request.query_params.get("requested"),
    }, user)


@router.post("/sources/{source_id}/crawl")
def sources_crawl(source_id: str, request: Request, csrf: str = Form("", max_length=100),
                  state: AppState = Depends(get_state),
                  user: Principal | None = Depends(page_user)) -> Response:
    if user is None:
        return RedirectResponse("/signin?next=/sources", status_code=303)
    if not csrf_ok(user, csrf):
        raise HTTPException(status_code=403, detail="Phiên làm việc không hợp lệ; hãy tải lại "
                                                    "trang và thử lại.")
    source_id = source_id[:100]
    request_crawl(state, source_id, user.name)
    return RedirectResponse(f"/sources?requested={quote(source_id)}#nguon-{quote(source_id)}",
                            status_code=303)
