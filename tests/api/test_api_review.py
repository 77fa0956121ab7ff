"""``/api/review`` and the ``/review`` page: the queue, its checks, and answering it."""

from __future__ import annotations

import re
from datetime import timedelta

from dophu.dates import now_local
from tests.api.api_fixture import DAI_HOI, GIAI_PHONG, KY_NGUYEN, TOKEN_AN
from tests.api.test_api_items import _error
from tests.api.test_pages import _csrf, _sign_in

WEEKS = {"from": "2025-04-01", "to": "2025-05-31", "max_distance": 10}
ROW = re.compile(r'<tr data-item="([^"]+)" data-label="([^"]+)" data-stored="(yes|no)">')


def re_rows(html: str) -> list[tuple[str, str, str]]:
    """(item id, label, stored) of each row of the review table."""
    return ROW.findall(html)


def test_review_lists_the_period_nearest_first(client):
    body = client.get("/api/review", params=WEEKS).json()
    assert body["date_from"] == "2025-04-01" and body["date_to"] == "2025-05-31"
    assert body["items_in_period"] == 4                  # five items, one a duplicate
    assert body["items_scored"] == 4 and body["model"]   # the shipped model
    candidates = body["candidates"]
    assert len(candidates) == 50                          # the default limit
    distances = [c["distance"] for c in candidates]
    assert distances == sorted(distances)
    first = candidates[0]
    assert set(first) == {"item", "label_kind", "label", "label_name", "score", "threshold",
                          "distance", "tagged", "stored", "evidence"}
    assert set(first["item"]) == {"id", "title", "url", "source", "unit", "published_at"}
    carried = {(DAI_HOI.id, "dai-hoi-dang"), (GIAI_PHONG.id, "niem-tin-moi"),
               (GIAI_PHONG.id, "giai-phong-mien-nam-50"), (KY_NGUYEN.id, "ky-nguyen-moi")}
    for c in candidates:
        assert c["stored"] == ((c["item"]["id"], c["label"]) in carried)
        assert c["tagged"] == (c["score"] >= c["threshold"])
    # the pair somebody already answered (fill(): "an" confirmed dai-hoi-dang) is not listed
    assert (DAI_HOI.id, "dai-hoi-dang") not in {(c["item"]["id"], c["label"])
                                                for c in client.get("/api/review", params={
                                                    **WEEKS, "limit": 500}).json()["candidates"]}
    only = client.get("/api/review", params={**WEEKS, "label": "quoc-khanh-80"}).json()
    assert {c["label"] for c in only["candidates"]} == {"quoc-khanh-80"}
    assert only["candidates"][0]["label_name"].startswith("Kỷ niệm 80 năm Quốc khánh")
    ward = client.get("/api/review", params={**WEEKS, "unit": "mttq-thanh-pho"}).json()
    assert ward["items_in_period"] == 0 and ward["candidates"] == []


def test_review_defaults_to_the_last_30_days(client):
    body = client.get("/api/review").json()
    today = now_local().date()
    assert body["date_to"] == today.isoformat()
    assert body["date_from"] == (today - timedelta(days=29)).isoformat()
    assert body["items_in_period"] == 0 and body["candidates"] == []


def test_review_bad_parameters_are_named(client):
    assert "unknown label id" in _error(client.get("/api/review", params={"label": "khong-co"}),
                                        "label")
    assert "after" in _error(client.get("/api/review", params={"from": "2025-05-02",
                                                               "to": "2025-05-01"}), "from")
    _error(client.get("/api/review", params={"limit": 0}), "limit")
    _error(client.get("/api/review", params={"max_items": 20_001}), "max_items")
    _error(client.get("/api/review", params={"max_distance": -1}), "max_distance")
    _error(client.get("/api/review", params={"unit": "khong-co"}), "unit")


def test_review_needs_a_token_when_reads_do(make_app):
    from fastapi.testclient import TestClient

    with TestClient(make_app(read_requires_token=True)) as locked:
        assert locked.get("/api/review").status_code == 401
        assert locked.get("/api/review", headers={
            "Authorization": f"Bearer {TOKEN_AN}"}).status_code == 200


def test_dismiss_answers_a_label_the_item_does_not_carry(client, an):
    queue = client.get("/api/review", params={**WEEKS, "limit": 500}).json()["candidates"]
    near_miss = next(c for c in queue if not c["stored"])
    url = f"/api/items/{near_miss['item']['id']}/feedback"
    body = {"label_kind": near_miss["label_kind"], "label": near_miss["label"]}
    assert "use action 'add'" in _error(client.post(url, headers=an, json={
        **body, "action": "reject"}), "label")          # reject is for a tag the item has
    response = client.post(url, headers=an, json={**body, "action": "dismiss"})
    assert response.status_code == 201 and response.json()["action"] == "dismiss"
    after = client.get("/api/review", params={**WEEKS, "limit": 500}).json()["candidates"]
    assert len(after) == len(queue) - 1
    assert (near_miss["item"]["id"], near_miss["label"]) not in {
        (c["item"]["id"], c["label"]) for c in after}
    # a label the item carries is confirmed or rejected, not dismissed
    carried = client.post(f"/api/items/{DAI_HOI.id}/feedback", headers=an, json={
        "label_kind": "theme", "label": "dai-hoi-dang", "action": "dismiss"})
    assert "already has" in _error(carried, "label")


def test_review_page_lists_pairs_and_answers_come_back_to_it(client, app):
    anonymous = client.get("/review", params=WEEKS)
    assert anonymous.status_code == 200 and "Cần xem lại" in anonymous.text
    assert 'data-action="dismiss"' not in anonymous.text and "Đăng nhập</a> để trả lời" in (
        anonymous.text)
    _sign_in(client, next_url="/review")
    html = client.get("/review", params=WEEKS).text
    assert "4 tin bài trong kỳ" in html
    rows = re_rows(html)
    assert rows and all(stored in ("yes", "no") for _, _, stored in rows)
    assert 'data-action="dismiss"' in html and 'data-action="add"' in html
    item_id, label, stored = next(row for row in rows if row[2] == "no")
    kind = "theme" if label in app.state.dophu.plan.label_ids("theme") else "anniversary"
    back = "/review?from=2025-04-01&to=2025-05-31&max_distance=10"
    response = client.post(f"/items/{item_id}/feedback", data={
        "csrf": _csrf(html), "label_kind": kind, "label": label, "action": "dismiss",
        "back": back}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == back + "&done=dismiss"
    page = client.get(response.headers["location"]).text
    assert "Đã ghi nhận: đã xác nhận không có" in page
    assert (item_id, label) not in {(i, lab) for i, lab, _ in re_rows(page)}
    feedback = app.state.dophu.store.list_feedback(item_id=item_id)
    assert [(f.user, f.action, f.label) for f in feedback] == [("an", "dismiss", label)]
    item_page = client.get(f"/items/{item_id}").text     # the answer shows on the item too
    assert "Đã xác nhận không áp dụng" in item_page and f'data-dismissed="{label}"' in item_page
    # "back" only ever leads to the review page
    elsewhere = client.post(f"/items/{item_id}/feedback", data={
        "csrf": _csrf(html), "label_kind": kind, "label": label, "action": "add",
        "back": "https://evil.example/review"}, follow_redirects=False)
    assert elsewhere.headers["location"].startswith(f"/items/{item_id}?done=add")


def test_review_page_bad_parameters_are_a_422_page(client):
    for params in ({"label": "khong-co"}, {"from": "mai"}, {"max_distance": "nan"},
                   {"limit": "0"}):
        response = client.get("/review", params=params)
        assert response.status_code == 422, params
        assert response.headers["content-type"].startswith("text/html")

