"""``/items/{id}``: an item's text with its evidence marked, its tags, and the buttons to
confirm or reject a tag (or add a missing one) for a signed-in user."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response

from api.access import page_user
from api.auth import Principal, csrf_ok
from api.routes.items import item_detail, record_feedback
from api.schemas import FeedbackIn
from api.state import AppState, get_state
from api.views import latest_word, mark_evidence, paragraphs, tag_views
from api.web.common import render

router = APIRouter(include_in_schema=False)


@router.get("/items/{item_id}")
def item_page(item_id: str, request: Request, state: AppState = Depends(get_state),
              user: Principal | None = Depends(page_user)) -> Response:
    if len(item_id) > 200:
        raise HTTPException(status_code=404, detail="Không tìm thấy tin bài này.")
    try:
        detail = item_detail(state, item_id)
    except HTTPException:
        raise HTTPException(status_code=404, detail="Không tìm thấy tin bài này.") from None
    names = {("theme", t.id): t.name for t in state.plan.themes}
    names.update({("anniversary", a.id): a.name for a in state.plan.anniversaries})
    tags = tag_views(detail, detail.corrections, names)
    evidence = [phrase for tag in tags for phrase in tag.evidence]
    carried = {(t.kind, t.id) for t in tags if t.score is not None}
    missing = [("theme", t.id, t.name) for t in state.plan.themes
               if ("theme", t.id) not in carried]
    missing += [("anniversary", a.id, a.name) for a in state.plan.anniversaries
                if ("anniversary", a.id) not in carried]
    dismissed = [(names.get(key, key[1]), entry)
                 for key, entry in latest_word(detail.corrections).items()
                 if entry.action == "dismiss" and key not in carried]
    return render(request, "item.html", {
        "title": detail.title or "Tin bài", "item": detail, "tags": tags,
        "title_html": mark_evidence(detail.title, evidence),
        "paragraphs": [mark_evidence(p, evidence) for p in paragraphs(detail.text)],
        "unit_name": state.unit_name(detail.unit),
        "source_name": state.source_name(detail.source),
        "missing": missing, "done": request.query_params.get("done"), "label_names": names,
        "dismissed": dismissed,
    }, user)


@router.post("/items/{item_id}/feedback")
def item_feedback(item_id: str, request: Request, label_kind: str = Form("", max_length=20),
                  label: str = Form("", max_length=100), action: str = Form(max_length=20),
                  tag: str = Form("", max_length=130),
                  csrf: str = Form("", max_length=100), note: str = Form("", max_length=1000),
                  back: str = Form("", max_length=2000),
                  state: AppState = Depends(get_state),
                  user: Principal | None = Depends(page_user)) -> Response:
    """The item page's buttons and its "add a tag" form (and the review page's buttons):
    stores the feedback, then back to the item, or to the review page it came from (303)."""
    if user is None:
        return RedirectResponse(f"/signin?next={quote('/items/' + item_id, safe='/')}",
                                status_code=303)
    if not csrf_ok(user, csrf):
        raise HTTPException(status_code=403, detail="Phiên làm việc không hợp lệ; hãy tải lại "
                                                    "trang và thử lại.")
    if tag:                                   # the "add a missing tag" select: "kind:id"
        label_kind, _, label = tag.partition(":")
    try:
        body = FeedbackIn.model_validate({"label_kind": label_kind, "label": label,
                                          "action": action, "note": note})
    except ValueError as exc:
        raise RequestValidationError(getattr(exc, "errors", lambda: [])()) from None
    record_feedback(state, item_id, body, user.name)
    if back == "/review" or back.startswith("/review?"):
        kept = [(k, v) for k, v in parse_qsl(urlsplit(back).query) if k != "done"]
        return RedirectResponse("/review?" + urlencode([*kept, ("done", action)]),
                                status_code=303)
    return RedirectResponse(f"/items/{quote(item_id)}?done={quote(action)}#nhan",
                            status_code=303)
