"""Answers from Elasticsearch map to the same Python objects as the embedded store gives.

The store talks to a fake cluster over HTTP (tests/store/fake_es.py). Searches and
aggregations are answered from recorded bodies (es_fixtures/), only when the store
sends exactly the recorded request; lookups by id, term and range are evaluated by
the fake. Each result is compared with a SQLiteStore holding the same items.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from dophu.models import Feedback, SourceState
from store.base import CoverageQuery, Filters, SearchQuery
from store.elastic import ElasticStore
from store.sqlite import SQLiteStore
from tests.store.es_testkit import (  # noqa: F401 - fixtures
    _shared_server,
    elastic_on,
    fake_es,
    fixture_names,
    load_fixture,
)
from tests.store.factory import make_item
from tests.store.test_store_contract import CONGRESS, LIBERATION, ROAD, UNTAGGED

ITEMS = [CONGRESS, LIBERATION, ROAD, UNTAGGED]


@pytest.fixture
def both(fake_es, tmp_path: Path):  # noqa: F811
    fake, server = fake_es
    for name in fixture_names("search_") + fixture_names("coverage_"):
        data = load_fixture(name)
        fake.record(data["request"]["path"], data["request"]["body"], data["response"], name)
    elastic = elastic_on(server)
    sqlite = SQLiteStore(tmp_path / "same.sqlite3")
    for backend in (elastic, sqlite):
        backend.upsert(ITEMS)
    yield fake, elastic, sqlite
    elastic.close()
    sqlite.close()


def _without_scores(result) -> dict:
    dumped = result.model_dump()
    for hit in dumped["items"]:
        assert hit.pop("score") is not None or hit["item"] is None
    return dumped


@pytest.mark.parametrize("name", fixture_names("search_"))
def test_search_answers_map_to_the_embedded_stores_result(both, name: str) -> None:
    fake, elastic, sqlite = both
    query = SearchQuery(**load_fixture(name)["query"])
    got, expected = elastic.search(query), sqlite.search(query)
    if query.text:
        # scores are each engine's own (BM25 in both, different statistics)
        assert _without_scores(got) == _without_scores(expected)
    else:
        assert got == expected
        assert all(hit.score is None for hit in got.items)
    assert list(got.facets.get("source", {}).items()) == list(
        expected.facets.get("source", {}).items())      # same order too
    assert next(r for r in fake.recordings if r.name == name).used == 1


def test_highlights_come_back_marked_and_escaped(both) -> None:
    _, elastic, _ = both
    hit = elastic.search(SearchQuery(text="dai hoi dang")).items[0]
    assert hit.highlights["title"].startswith("<mark>Đại</mark> <mark>hội</mark> "
                                              "<mark>Đảng</mark>")
    assert hit.score == pytest.approx(5.1867037)


@pytest.mark.parametrize("name", fixture_names("coverage_"))
def test_coverage_answers_map_to_the_embedded_stores_rows(both, name: str) -> None:
    fake, elastic, sqlite = both
    query = CoverageQuery(**load_fixture(name)["query"])
    assert elastic.coverage(query) == sqlite.coverage(query)
    assert next(r for r in fake.recordings if r.name == name).used == 1


def test_every_recorded_request_is_one_the_store_makes(both) -> None:
    fake, elastic, _ = both
    for recording in fake.recordings:
        query = load_fixture(recording.name)["query"]
        if recording.name.startswith("search_"):
            elastic.search(SearchQuery(**query))
        else:
            elastic.coverage(CoverageQuery(**query))
    assert all(r.used for r in fake.recordings)


def test_total_coverage_without_groups(both) -> None:
    _, elastic, sqlite = both
    assert elastic.coverage(CoverageQuery()) == sqlite.coverage(CoverageQuery()) != []


# ------------------------------------------------------------------ lookups, same answers


def test_get_round_trips_like_the_embedded_store(both) -> None:
    _, elastic, sqlite = both
    for item in ITEMS:
        assert elastic.get(item.id).model_dump() == sqlite.get(item.id).model_dump()
    assert elastic.get("no-such-id") is None
    odd = make_item(40, themes={"b": 0.4, "a": 0.9}, published_at="2025-06-01T12:00:00Z")
    odd = odd.model_copy(update={"meta": {"when": date(2025, 1, 2), "n": [1, 2]},
                                 "themes": [*odd.themes, odd.themes[0]]})
    elastic.upsert([odd])
    sqlite.upsert([odd])
    assert elastic.get(odd.id).model_dump() == sqlite.get(odd.id).model_dump()


@pytest.mark.parametrize("filters", [
    Filters(), Filters(themes=["niem-tin-moi"]), Filters(themes=["niem-tin-moi"], min_score=0.8),
    Filters(anniversaries=["giai-phong-mien-nam-50"]), Filters(sources=["canthotv"]),
    Filters(units=["quan-ninh-kieu", "dai-ptth-can-tho"]), Filters(kinds=["portal"]),
    Filters(relevant=True), Filters(relevant=False),
    Filters(date_from=date(2025, 4, 27), date_to=date(2025, 4, 27)),
    Filters(date_from=date(2025, 4, 28), date_to=date(2025, 4, 30)),
    Filters(date_from=date(2025, 5, 1)), Filters(date_to=date(2025, 4, 26)),
    Filters(include_duplicates=False),
], ids=lambda f: repr(f.model_dump(exclude_defaults=True)))
def test_counts_with_filters_match(both, filters: Filters) -> None:
    _, elastic, sqlite = both
    assert elastic.count(filters) == sqlite.count(filters)


def test_id_order_dedup_lookups_and_delete_match(both) -> None:
    _, elastic, sqlite = both
    copy = make_item(30, title=CONGRESS.title, text=CONGRESS.text, source="ninhkieu-portal",
                     unit="quan-ninh-kieu", kind="portal", duplicate_of=CONGRESS.id)
    for backend in (elastic, sqlite):
        backend.upsert([copy])
    assert [i.id for i in elastic.iter_items(batch_size=2)] == [
        i.id for i in sqlite.iter_items(batch_size=3)]
    middle = sorted(i.id for i in ITEMS)[1]
    assert [i.id for i in elastic.iter_items(after_id=middle, batch_size=2)] == [
        i.id for i in sqlite.iter_items(after_id=middle)]
    assert elastic.find_by_content_hash(CONGRESS.content_hash) == sqlite.find_by_content_hash(
        CONGRESS.content_hash) == [CONGRESS.id, copy.id]
    assert elastic.duplicates_of(CONGRESS.id) == sqlite.duplicates_of(CONGRESS.id)
    assert elastic.known_ids([CONGRESS.id, "nope"]) == sqlite.known_ids([CONGRESS.id, "nope"])
    assert elastic.count(Filters(include_duplicates=False)) == 4
    assert elastic.delete_source("baocantho") == sqlite.delete_source("baocantho") == 2
    assert elastic.count() == sqlite.count() == 3


def test_upsert_counts_and_retag_match(both) -> None:
    fake, elastic, sqlite = both
    retagged = CONGRESS.model_copy(update={"themes": [], "relevant": False})
    edited = LIBERATION.model_copy(update={"title": "Lễ kỷ niệm (cập nhật)"})
    fresh = make_item(50)
    for backend in (elastic, sqlite):
        assert backend.upsert([retagged, edited, fresh, ROAD]).model_dump() == {
            "new": 1, "updated": 2, "unchanged": 1}
    assert elastic.get(CONGRESS.id) == sqlite.get(CONGRESS.id)
    assert elastic.count(Filters(themes=["dai-hoi-dang"])) == 0
    bulk = [body for method, path, body in fake.requests if path == "/_bulk"][-1]
    ops = [(op, meta["_id"]) for line in bulk for op, meta in line.items()
           if op in ("index", "update")]
    # the tag-only change is a partial update in place; the edited text is reindexed
    assert ("update", CONGRESS.id) in ops and ("index", LIBERATION.id) in ops
    assert ROAD.id not in {doc_id for _, doc_id in ops}


def test_feedback_and_state_match(both) -> None:
    _, elastic, sqlite = both
    at = "2025-05-02T09:00:00+07:00"
    for backend in (elastic, sqlite):
        backend.add_feedback(Feedback(item_id=CONGRESS.id, label_kind="theme", label="x",
                                      action="reject", user="lan", at=at))
        backend.add_feedback(Feedback(item_id=ROAD.id, label_kind="theme", label="y",
                                      action="add", user="minh", at="2025-05-09T09:00:00+07:00"))
        backend.put_source_state(SourceState(source_id="canthotv", consecutive_failures=1))
    assert elastic.list_feedback() == sqlite.list_feedback()
    assert [f.id for f in elastic.list_feedback()] == [1, 2]
    assert elastic.list_feedback(item_id=ROAD.id) == sqlite.list_feedback(item_id=ROAD.id)
    assert elastic.list_source_states() == sqlite.list_source_states()
    assert elastic.get_source_state("nope") is None


def test_store_class_is_the_one_open_store_builds(monkeypatch, fake_es, tmp_path) -> None:  # noqa: F811
    from store import open_store
    from store.spool import SpoolingStore

    _, server = fake_es
    monkeypatch.setenv("ELASTICSEARCH_URL", f"http://127.0.0.1:{server.port}")
    writer = open_store(tmp_path)
    reader = open_store(tmp_path, readonly=True)
    try:
        assert isinstance(writer, SpoolingStore) and isinstance(writer.inner, ElasticStore)
        assert isinstance(reader, ElasticStore)
        assert (tmp_path / "elasticsearch-spool.sqlite3").exists()
    finally:
        writer.close()
        reader.close()
