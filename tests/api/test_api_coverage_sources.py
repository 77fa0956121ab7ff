"""GET /api/coverage, GET /api/sources, POST /api/sources/{id}/crawl, GET /api/plan,
GET /healthz, GET /metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.metrics import TAGGING_SECONDS, TimedTagger, observe_tagging
from dophu.models import Item
from tests.api.api_fixture import DAI_HOI


def _rows(payload: dict) -> dict[tuple, int]:
    return {(*row["keys"].values(), row["period"]): row["count"] for row in payload["rows"]}


# ---------------------------------------------------------------- coverage


def test_coverage_by_theme_and_unit_for_a_week(client):
    response = client.get("/api/coverage", params=[
        ("group_by", "theme"), ("group_by", "unit"), ("from", "2025-04-28"),
        ("to", "2025-05-04")])
    assert response.status_code == 200
    payload = response.json()
    assert payload["from"] == "2025-04-28" and payload["to"] == "2025-05-04"
    assert payload["group_by"] == ["theme", "unit"] and payload["interval"] is None
    assert payload["total"] == 4
    assert _rows(payload) == {("dai-hoi-dang", "bao-can-tho", None): 1,
                              ("niem-tin-moi", "dai-ptth-can-tho", None): 1,
                              ("niem-tin-moi", "mttq-thanh-pho", None): 1}


def test_coverage_by_period(client):
    by_week = client.get("/api/coverage", params={"interval": "week"}).json()
    assert _rows(by_week) == {("2025-W17",): 1, ("2025-W18",): 4}
    by_day = client.get("/api/coverage", params={"interval": "day", "source": "baocantho"}
                        ).json()
    assert _rows(by_day) == {("2025-04-22",): 1, ("2025-04-29",): 1}
    by_month = client.get("/api/coverage", params={"interval": "month", "group_by": "kind",
                                                   "relevant": "true"}).json()
    assert _rows(by_month) == {("broadcaster", "2025-04"): 1, ("newspaper", "2025-04"): 2,
                               ("organization", "2025-04"): 1}
    anniversaries = client.get("/api/coverage", params={
        "group_by": "anniversary", "duplicates": "false"}).json()
    assert _rows(anniversaries) == {("giai-phong-mien-nam-50", None): 1}
    everything = client.get("/api/coverage").json()
    assert everything["rows"] == [{"keys": {}, "period": None, "count": 5}]


def test_coverage_rejects_bad_parameters(client):
    for params, name in (({"group_by": "ward"}, "group_by"), ({"interval": "year"}, "interval"),
                         ({"from": "2025-13-01"}, "from"), ({"theme": "x"}, "theme"),
                         ({"from": "2025-05-02", "to": "2025-05-01"}, "from"),
                         ({"min_score": "-1"}, "min_score")):
        response = client.get("/api/coverage", params=params)
        assert response.status_code == 422, (params, response.text)
        assert any(name in e["loc"] for e in response.json()["detail"]), response.json()


# ---------------------------------------------------------------- sources


def test_sources_with_health(client):
    payload = client.get("/api/sources").json()
    assert len(payload["weeks"]) == 8
    by_id = {s["id"]: s for s in payload["sources"]}
    assert by_id["baocantho"]["health"]["status"] == "ok"
    assert by_id["baocantho"]["health"]["last_run"] == {"new": 2, "seen": 10}
    assert by_id["canthotv"]["health"]["status"] == "failing"
    assert by_id["canthotv"]["health"]["consecutive_failures"] == 3
    assert by_id["canthotv"]["health"]["last_error"].startswith("HTTP 503")
    assert by_id["svhttdl-cantho"]["health"]["status"] == "not_crawled"
    assert by_id["hoi-phu-nu-tam-dung"]["health"]["status"] == "disabled"
    assert by_id["fb-phuong-ninh-kieu"]["health"]["status"] == "import"
    assert by_id["baocantho"]["unit_name"] == "Báo Cần Thơ"
    assert all(len(s["items_per_week"]) == 8 for s in payload["sources"])


def test_sources_items_per_week_counts_recent_weeks(client, app):
    now = datetime.now(UTC)
    store = app.state.dophu.store
    store.upsert([Item(id="moi-tuan-nay", url="https://example.vn/moi.html", source="baocantho",
                       unit="bao-can-tho", kind="newspaper", title="Tin mới", text="Tin mới",
                       published_at=now - timedelta(minutes=5))])
    payload = client.get("/api/sources").json()
    weeks = {s["id"]: s["items_per_week"] for s in payload["sources"]}
    assert weeks["baocantho"][-1]["items"] == 1
    assert weeks["baocantho"][-1]["week"] == payload["weeks"][-1]
    assert sum(w["items"] for w in weeks["canthotv"]) == 0


def test_crawl_request_marks_the_source_due(client, app, an):
    before = datetime.now(UTC)
    response = client.post("/api/sources/baocantho/crawl", headers=an)
    assert response.status_code == 202, response.text
    payload = response.json()
    assert payload["requested_by"] == "an" and payload["source"] == "baocantho"
    state = app.state.dophu.store.get_source_state("baocantho")
    assert state.next_due is not None and before <= state.next_due <= datetime.now(UTC)
    assert state.last_run == {"new": 2, "seen": 10}          # the rest of the state is kept
    assert state.model_extra["crawl_requested_by"] == "an"
    health = {s["id"]: s for s in client.get("/api/sources").json()["sources"]}["baocantho"]
    assert health["health"]["crawl_requested_by"] == "an"
    # a source never crawled gets a state of its own
    assert client.post("/api/sources/svhttdl-cantho/crawl", headers=an).status_code == 202
    assert app.state.dophu.store.get_source_state("svhttdl-cantho").next_due is not None


def test_crawl_request_is_picked_by_the_crawler_selection(client, app, an):
    from crawlers.run import select_sources

    class _Context:                       # what select_sources reads of a Context
        sources = app.state.dophu.sources
        store = app.state.dophu.store

    later = datetime.now(UTC) + timedelta(hours=1)
    for source in _Context.sources:
        state = _Context.store.get_source_state(source.id)
        if state is not None:
            _Context.store.put_source_state(state.model_copy(update={"next_due": later}))
    assert "baocantho" not in [s.id for s in select_sources(_Context, None, False, None)]
    client.post("/api/sources/baocantho/crawl", headers=an)
    chosen = [s.id for s in select_sources(_Context, None, False, None)]
    assert "baocantho" in chosen


def test_crawl_request_errors(client, an):
    assert client.post("/api/sources/baocantho/crawl").status_code == 401
    assert client.post("/api/sources/khong-co/crawl", headers=an).status_code == 404
    disabled = client.post("/api/sources/hoi-phu-nu-tam-dung/crawl", headers=an)
    assert disabled.status_code == 409 and "disabled" in disabled.json()["detail"]
    nothing = client.post("/api/sources/fb-phuong-ninh-kieu/crawl", headers=an)
    assert nothing.status_code == 409 and "no home" in nothing.json()["detail"]


# ---------------------------------------------------------------- plan, health, metrics


def test_plan(client):
    plan = client.get("/api/plan").json()
    assert plan["id"] == "can-tho-chu-de-lon-2025"
    assert [t["id"] for t in plan["themes"] if t["major"]] == [
        "niem-tin-moi", "co-do-40-nam", "ky-nguyen-moi"]
    assert {"date", "window", "event_date"} <= set(plan["anniversaries"][0])


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok", "items": 5}


def test_healthz_is_503_when_the_store_fails(client, app, monkeypatch):
    from store import StoreError

    def broken(*args, **kwargs):
        raise StoreError("disk gone")

    monkeypatch.setattr(app.state.dophu.store, "count", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "disk gone" not in response.text


def test_metrics(client):
    client.get("/api/items", params={"q": "dai hoi"})
    with observe_tagging():
        pass
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "dophu_items 5.0" in text
    assert 'dophu_source_consecutive_failures{source="canthotv"} 3.0' in text
    assert 'dophu_source_consecutive_failures{source="baocantho"} 0.0' in text
    assert "dophu_store_up 1.0" in text
    assert "dophu_tagging_seconds_count" in text
    assert 'dophu_http_requests_total{method="GET",route="/api/items",status="200"}' in text
    assert 'dophu_http_request_duration_seconds_bucket{le="0.005",method="GET",' \
           'route="/api/items"}' in text


def test_timed_tagger_observes_each_call():
    class Tagger:
        version = "m1"

        def tag_item(self, item):
            return item.model_copy(update={"relevant": True})

    before = _count()
    timed = TimedTagger(Tagger())
    assert timed.tag_item(DAI_HOI).relevant is True
    assert timed.version == "m1"                    # the wrapped tagger's attributes show
    assert _count() == before + 1


def _count() -> float:
    for metric in TAGGING_SECONDS.collect():
        for sample in metric.samples:
            if sample.name.endswith("_count"):
                return sample.value
    return 0.0
