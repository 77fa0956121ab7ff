"""GET /api/items, GET /api/items/{id}, POST /api/items/{id}/feedback."""

from __future__ import annotations

from tests.api.api_fixture import DAI_HOI, GIAI_PHONG, GIAI_PHONG_COPY, HOSTILE, KY_NGUYEN

ITEM_KEYS = {"id", "url", "source", "unit", "kind", "title", "text", "published_at",
             "fetched_at", "relevant", "themes", "anniversaries", "duplicate_of"}


def _ids(payload: dict) -> list[str]:
    return [item["id"] for item in payload["items"]]


# ---------------------------------------------------------------- search


def test_search_without_diacritics_finds_the_item_with_highlights(client):
    response = client.get("/api/items", params={"q": "dai hoi dang bo"})
    assert response.status_code == 200
    payload = response.json()
    assert payload["total"] == 1
    item = payload["items"][0]
    assert item["id"] == DAI_HOI.id
    assert set(item) >= ITEM_KEYS
    assert item["themes"][0] == {"id": "dai-hoi-dang", "score": 0.95,
                                 "evidence": ["Đại hội đại biểu Đảng bộ",
                                              "nhiệm kỳ 2025 - 2030"]}
    assert "<mark>Đại</mark> <mark>hội</mark> <mark>Đảng</mark> <mark>bộ</mark>" in (
        item["highlights"]["title"])
    assert set(payload["facets"]) == {"theme", "anniversary", "unit", "source", "kind"}
    assert payload["facets"]["theme"] == {"dai-hoi-dang": 1}


def test_search_with_diacritics_gives_the_same_result(client):
    plain = client.get("/api/items", params={"q": "giai phong mien nam"}).json()
    marked = client.get("/api/items", params={"q": "giải phóng miền Nam"}).json()
    assert plain["total"] == marked["total"] == 2
    assert sorted(_ids(plain)) == sorted(_ids(marked)) == sorted([GIAI_PHONG.id,
                                                                  GIAI_PHONG_COPY.id])


def test_search_filters_and_facets(client):
    payload = client.get("/api/items", params=[("theme", "niem-tin-moi"),
                                               ("theme", "dai-hoi-dang")]).json()
    assert sorted(_ids(payload)) == sorted([DAI_HOI.id, GIAI_PHONG.id, GIAI_PHONG_COPY.id])
    payload = client.get("/api/items", params={"anniversary": "giai-phong-mien-nam-50",
                                               "duplicates": "false"}).json()
    assert _ids(payload) == [GIAI_PHONG.id]
    payload = client.get("/api/items", params={"unit": "bao-can-tho", "sort": "date"}).json()
    assert _ids(payload) == [DAI_HOI.id, KY_NGUYEN.id]
    payload = client.get("/api/items", params={"source": "cong-cantho"}).json()
    assert _ids(payload) == [HOSTILE.id]
    payload = client.get("/api/items", params={"kind": "broadcaster"}).json()
    assert _ids(payload) == [GIAI_PHONG.id]
    payload = client.get("/api/items", params={"relevant": "false"}).json()
    assert _ids(payload) == [HOSTILE.id]
    payload = client.get("/api/items", params={"from": "2025-04-28", "to": "2025-05-04",
                                               "sort": "date_asc"}).json()
    assert _ids(payload) == [DAI_HOI.id, GIAI_PHONG.id, GIAI_PHONG_COPY.id, HOSTILE.id]
    assert payload["facets"]["unit"] == {"bao-can-tho": 1, "dai-ptth-can-tho": 1,
                                         "mttq-thanh-pho": 1, "ubnd-thanh-pho": 1}
    payload = client.get("/api/items", params={"theme": "dai-hoi-dang",
                                               "min_score": 0.99}).json()
    assert payload["total"] == 0


def test_search_pages(client):
    first = client.get("/api/items", params={"size": 2, "sort": "date"}).json()
    second = client.get("/api/items", params={"size": 2, "page": 2, "sort": "date"}).json()
    third = client.get("/api/items", params={"size": 2, "page": 3, "sort": "date"}).json()
    assert first["total"] == second["total"] == third["total"] == 5
    assert len(first["items"]) == len(second["items"]) == 2 and len(third["items"]) == 1
    assert len(set(_ids(first) + _ids(second) + _ids(third))) == 5
    facets_only = client.get("/api/items", params={"size": 0}).json()
    assert facets_only["items"] == [] and facets_only["facets"]["source"]["baocantho"] == 2


def _error(response, param: str) -> str:
    assert response.status_code == 422, response.text
    payload = response.json()
    assert payload["detail"], payload
    assert any(param in entry["loc"] for entry in payload["detail"]), payload
    return payload["message"]


def test_search_rejects_unknown_ids_with_a_clear_message(client):
    message = _error(client.get("/api/items", params={"theme": "khong-co"}), "theme")
    assert "unknown" in message and "'khong-co'" in message and "niem-tin-moi" in message
    _error(client.get("/api/items", params={"anniversary": "quoc-khanh-99"}), "anniversary")
    _error(client.get("/api/items", params={"unit": "xa-khong-ton-tai"}), "unit")
    _error(client.get("/api/items", params={"source": "nope"}), "source")
    _error(client.get("/api/items", params={"kind": "blog"}), "kind")
    _error(client.get("/api/items", params={"sort": "random"}), "sort")


def test_search_rejects_bad_dates_and_periods(client):
    _error(client.get("/api/items", params={"from": "30/02/2025"}), "from")
    _error(client.get("/api/items", params={"to": "hôm qua"}), "to")
    message = _error(client.get("/api/items", params={"from": "2025-05-04",
                                                      "to": "2025-04-28"}), "from")
    assert "after" in message
    _error(client.get("/api/items", params={"from": "1200-01-01"}), "from")


def test_search_bounds_sizes(client, make_app):
    from fastapi.testclient import TestClient

    _error(client.get("/api/items", params={"size": 101}), "size")   # settings: 100
    _error(client.get("/api/items", params={"size": 5000}), "size")
    _error(client.get("/api/items", params={"page": 0}), "page")
    _error(client.get("/api/items", params={"page": 10_001}), "page")
    _error(client.get("/api/items", params={"q": "x" * 1001}), "q")
    _error(client.get("/api/items", params={"min_score": 2}), "min_score")
    _error(client.get("/api/items", params=[("theme", "niem-tin-moi")] * 51), "theme")
    with TestClient(make_app(max_page_size=3)) as small:
        _error(small.get("/api/items", params={"size": 4}), "size")
        assert small.get("/api/items", params={"size": 3}).status_code == 200
        schema = small.get("/openapi.json").json()
        sizes = [p for p in schema["paths"]["/api/items"]["get"]["parameters"]
                 if p["name"] == "size"]
        assert sizes[0]["schema"]["maximum"] == 3


def test_store_query_errors_are_422(client):
    words = " ".join(f"tu{n}" for n in range(40))          # more terms than the store takes
    response = client.get("/api/items", params={"q": words})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "query_error"
    assert "at most 32" in response.json()["message"]


# ---------------------------------------------------------------- one item


def test_item_detail_has_tags_duplicates_and_corrections(client):
    payload = client.get(f"/api/items/{GIAI_PHONG.id}").json()
    assert set(payload) >= ITEM_KEYS
    assert payload["anniversaries"][0]["evidence"] == ["50 năm Ngày giải phóng miền Nam"]
    assert [d["id"] for d in payload["duplicates"]] == [GIAI_PHONG_COPY.id]
    assert payload["duplicates"][0]["source"] == "mttq-cantho"
    assert payload["original"] is None and payload["corrections"] == []
    copy = client.get(f"/api/items/{GIAI_PHONG_COPY.id}").json()
    assert copy["duplicate_of"] == GIAI_PHONG.id and copy["original"]["id"] == GIAI_PHONG.id
    confirmed = client.get(f"/api/items/{DAI_HOI.id}").json()
    assert [(c["user"], c["action"], c["label"]) for c in confirmed["corrections"]] == [
        ("an", "confirm", "dai-hoi-dang")]


def test_item_detail_unknown_is_404(client):
    response = client.get("/api/items/khong-co-tin-nay")
    assert response.status_code == 404
    assert "khong-co-tin-nay" in response.json()["detail"]


# ---------------------------------------------------------------- feedback


def test_feedback_needs_a_valid_bearer_token(client, an):
    url = f"/api/items/{DAI_HOI.id}/feedback"
    body = {"label_kind": "theme", "label": "dai-hoi-dang", "action": "reject"}
    missing = client.post(url, json=body)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    wrong = client.post(url, json=body, headers={"Authorization": "Bearer not-a-token-at-all"})
    assert wrong.status_code == 401 and "not valid" in wrong.json()["detail"]
    basic = client.post(url, json=body, headers={"Authorization": "Basic YW46YW4="})
    assert basic.status_code == 401
    # a token in a cookie is not enough for the JSON API (no cross-site writes)
    client.cookies.set("dophu_token", an["Authorization"].split()[1])
    try:
        assert client.post(url, json=body).status_code == 401
    finally:
        client.cookies.clear()
    assert client.get(f"/api/items/{DAI_HOI.id}").json()["corrections"][-1]["action"] == (
        "confirm")


def test_feedback_is_recorded_with_who_and_when(client, an, binh):
    url = f"/api/items/{GIAI_PHONG.id}/feedback"
    response = client.post(url, headers=an, json={
        "label_kind": "anniversary", "label": "giai-phong-mien-nam-50", "action": "confirm"})
    assert response.status_code == 201, response.text
    recorded = response.json()
    assert recorded["user"] == "an" and recorded["id"] > 0
    assert recorded["at"].endswith("+07:00")
    response = client.post(url, headers=binh, json={
        "label_kind": "theme", "label": "niem-tin-moi", "action": "reject",
        "note": "chỉ nhắc qua"})
    assert response.status_code == 201 and response.json()["user"] == "binh"
    response = client.post(url, headers=binh, json={
        "label_kind": "theme", "label": "co-do-40-nam", "action": "add"})
    assert response.status_code == 201
    corrections = client.get(f"/api/items/{GIAI_PHONG.id}").json()["corrections"]
    assert [(c["user"], c["action"], c["label"], c["note"]) for c in corrections] == [
        ("an", "confirm", "giai-phong-mien-nam-50", ""),
        ("binh", "reject", "niem-tin-moi", "chỉ nhắc qua"),
        ("binh", "add", "co-do-40-nam", "")]


def test_feedback_is_checked_against_the_plan_and_the_item(client, an):
    url = f"/api/items/{DAI_HOI.id}/feedback"

    def post(**body):
        return client.post(url, headers=an, json={"label_kind": "theme", "action": "confirm",
                                                   **body})

    assert "unknown theme" in _error(post(label="khong-co"), "label")
    assert "use action 'add'" in _error(post(label="niem-tin-moi"), "label")
    assert "already has" in _error(post(label="dai-hoi-dang", action="add"), "label")
    _error(post(label="dai-hoi-dang", action="delete"), "action")
    _error(post(label="dai-hoi-dang", label_kind="person"), "label_kind")
    _error(post(label="dai-hoi-dang", user="someone-else"), "user")       # extra field
    _error(post(label="dai-hoi-dang", note="x" * 1001), "note")
    assert client.post(url, headers=an, content=b"not json",
                       ).status_code == 422
    missing = client.post("/api/items/khong-co/feedback", headers=an, json={
        "label_kind": "theme", "label": "dai-hoi-dang", "action": "confirm"})
    assert missing.status_code == 404
    assert len(client.get(f"/api/items/{DAI_HOI.id}").json()["corrections"]) == 1


def test_writes_are_refused_when_no_token_is_configured(make_app, monkeypatch):
    from fastapi.testclient import TestClient

    monkeypatch.delenv("DOPHU_API_TOKENS")
    with TestClient(make_app(tokens={})) as bare:
        response = bare.post(f"/api/items/{DAI_HOI.id}/feedback", headers={
            "Authorization": "Bearer anything"}, json={
            "label_kind": "theme", "label": "dai-hoi-dang", "action": "confirm"})
        assert response.status_code == 401
        assert "no API tokens are configured" in response.json()["detail"]
