"""``/review``: the review queue as a page: the labels the classifier hesitates over, each
with the buttons to answer it (the answers go into the next ``dophu train``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.access import page_user
from api.auth import Principal
from api.params import invalid, parse_day, parse_int
from api.routes.review import as_response, review_queue
from api.state import AppState, get_state
from api.web.common import render
from classifier.review import DEFAULT_MAX_DISTANCE

router = APIRouter(include_in_schema=False)

PAGE_LIMIT = 50


def _distance(text: str | None) -> float:
    if text is None or not text.strip():
        return DEFAULT_MAX_DISTANCE
    try:
        value = float(text.strip())
    except ValueError:
        raise invalid("max_distance", "not a number", text) from None
    if not 0.0 <= value <= 10.0:
        raise invalid("max_distance", "must be between 0 and 10", value)
    return value


@router.get("/review")
def review_page(request: Request, state: AppState = Depends(get_state),
                user: Principal | None = Depends(page_user)) -> Response:
    params = request.query_params
    labels = [value for value in params.getlist("label") if value]
    units = [value for value in params.getlist("unit") if value]
    queue = review_queue(
        state, date_from=parse_day(params.get("from"), "from"),
        date_to=parse_day(params.get("to"), "to"), labels=labels, units=units,
        limit=parse_int(params.get("limit"), "limit", PAGE_LIMIT, 1, 200),
        max_distance=_distance(params.get("max_distance")))
    response = as_response(state, queue)
    rows = [{"c": c, "unit_name": state.unit_name(c.item.unit),
             "source_name": state.source_name(c.item.source)} for c in response.candidates]
    label_options = ([("theme", t.id, t.name) for t in state.plan.themes]
                     + [("anniversary", a.id, a.name) for a in state.plan.anniversaries])
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return render(request, "review.html", {
        "title": "Cần xem lại", "queue": response, "rows": rows, "labels": labels,
        "units": units, "label_options": label_options, "unit_options": state.plan.units,
        "back": back, "done": params.get("done"),
    }, user)
