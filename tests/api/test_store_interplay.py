"""What the API relies on from the store when one worker thread serves reads and writes:
a search leaves no transaction open, so later reads on that thread see new data and its
next write does not fail (found by the schemathesis run: crawl requests answered 503)."""

from __future__ import annotations

import threading

from dophu.dates import now_local
from dophu.models import Feedback, SourceState
from store.base import SearchQuery
from store.sqlite import SQLiteStore
from tests.api.api_fixture import DAI_HOI, ITEMS


def test_search_leaves_the_thread_connection_fresh_and_writable(tmp_path):
    store = SQLiteStore(tmp_path / "dophu.sqlite3")
    try:
        store.upsert(ITEMS[:2])
        assert store.search(SearchQuery(text="dai hoi")).total == 1
        writer = threading.Thread(target=store.upsert, args=(ITEMS[2:],))
        writer.start()
        writer.join()
        assert store.count() == len(ITEMS)                 # not a stale snapshot
        store.put_source_state(SourceState(source_id="baocantho"))   # no open transaction
        store.add_feedback(Feedback(item_id=DAI_HOI.id, label_kind="theme",
                                    label="dai-hoi-dang", action="confirm", user="an",
                                    at=now_local()))
        assert len(store.list_feedback(item_id=DAI_HOI.id)) == 1
    finally:
        store.close()


def test_feedback_after_searches_through_the_api(client, an):
    for _ in range(5):
        assert client.get("/api/items", params={"q": "dai hoi"}).status_code == 200
        response = client.post("/api/sources/baocantho/crawl", headers=an)
        assert response.status_code == 202, response.text
    response = client.post(f"/api/items/{DAI_HOI.id}/feedback", headers=an, json={
        "label_kind": "theme", "label": "dai-hoi-dang", "action": "reject"})
    assert response.status_code == 201
    for _ in range(5):
        corrections = client.get(f"/api/items/{DAI_HOI.id}").json()["corrections"]
        assert corrections[-1]["action"] == "reject"
