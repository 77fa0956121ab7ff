"""Errors from the cluster come back as the store's errors, naming what failed.

The real client and transport talk HTTP to a fake cluster (tests/store/fake_es.py)
that answers with Elasticsearch's status codes, error bodies and product header.
"""

from __future__ import annotations

import pytest

from store.base import QueryError, SearchQuery, StoreError, StoreUnavailable
from store.elastic import ElasticStore, queries
from tests.store.es_testkit import _shared_server, elastic_on, fake_es, free_port  # noqa: F401
from tests.store.factory import make_item


def _bulk_requests(fake) -> list:
    return [body for method, path, body in fake.requests if path == "/_bulk"]


def test_start_up_is_idempotent(fake_es) -> None:  # noqa: F811
    fake, server = fake_es
    first = elastic_on(server)
    first.upsert([make_item(1)])
    second = elastic_on(server)            # a second process starting later
    assert second.count() == 1
    creations = [path for method, path, _ in fake.requests if method == "PUT" and path in (
        "/dophu-items-v1", "/dophu-feedback", "/dophu-source-state", "/dophu-counters")]
    assert sorted(creations) == ["/dophu-counters", "/dophu-feedback", "/dophu-items-v1",
                                 "/dophu-source-state"]
    assert fake.aliases == {"dophu-items": "dophu-items-v1"}
    assert "dophu-items" in fake.templates


def test_a_dated_index_without_its_alias_gets_the_alias(fake_es) -> None:  # noqa: F811
    fake, server = fake_es
    elastic_on(server).upsert([make_item(1)])
    fake.aliases.clear()                   # e.g. another process died between the two steps
    store = elastic_on(server)
    assert fake.aliases == {"dophu-items": "dophu-items-v1"} and store.count() == 1


def test_unreachable_cluster(tmp_path) -> None:
    store = ElasticStore(f"http://127.0.0.1:{free_port()}", max_retries=0, request_timeout=2)
    with pytest.raises(StoreUnavailable, match="unreachable"):
        store.count()
    with pytest.raises(StoreUnavailable, match="unreachable"):
        store.upsert([make_item(1)])


def test_not_elasticsearch(fake_es) -> None:  # noqa: F811
    fake, server = fake_es
    fake.product_header = False
    with pytest.raises(StoreError, match="not Elasticsearch"):
        elastic_on(server)


def test_bad_credentials_name_the_api_key(fake_es) -> None:  # noqa: F811
    fake, server = fake_es
    fake.fail("_index_template", 401, "security_exception")
    with pytest.raises(StoreError, match="ELASTICSEARCH_API_KEY") as caught:
        ElasticStore(f"http://user:secret@127.0.0.1:{server.port}", api_key=None)
    assert "secret" not in str(caught.value)


def test_rejected_documents_are_named_and_the_rest_stored(fake_es) -> None:  # noqa: F811
    fake, server = fake_es
    store = elastic_on(server)
    good, bad = make_item(1), make_item(2)
    fake.reject_item(bad.id, 400, "document_parsing_exception", "failed to parse [ts]")
    with pytest.raises(StoreError, match="1 of 2 items were not stored") as caught:
        store.upsert([good, bad])
    assert bad.id in str(caught.value) and "failed to parse [ts]" in str(caught.value)
    assert not isinstance(caught.value, StoreUnavailable)
    assert store.known_ids([good.id, bad.id]) == {good.id}


def test_documents_refused_with_429_are_retried(fake_es) -> None:  # noqa: F811
    fake, server = fake_es
    store = elastic_on(server)
    items = [make_item(i) for i in range(3)]
    fake.reject_item(items[1].id, 429, "es_rejected_execution_exception", "queue full", times=2)
    assert store.upsert(items).new == 3
    bulks = _bulk_requests(fake)
    assert len(bulks) == 3                 # once for all, twice more for the refused one
    assert len(bulks[1]) == len(bulks[2]) == 2
    assert store.known_ids(i.id for i in items) == {i.id for i in items}


def test_still_refused_after_retries_is_unavailable(fake_es) -> None:  # noqa: F811
    fake, server = fake_es
    store = elastic_on(server, bulk_retries=1)
    item = make_item(1)
    fake.reject_item(item.id, 429, "es_rejected_execution_exception", "queue full", times=5)
    with pytest.raises(StoreUnavailable, match=item.id):
        store.upsert([item])


def test_a_whole_request_refused_with_429_is_retried_by_the_transport(fake_es) -> None:  # noqa: F811
    fake, server = fake_es
    store = elastic_on(server, max_retries=2)
    fake.fail("/_bulk", 429, "es_rejected_execution_exception", times=1)
    assert store.upsert([make_item(1)]).new == 1
    assert len(_bulk_requests(fake)) == 2


def test_cluster_not_ready_is_unavailable(fake_es) -> None:  # noqa: F811
    fake, server = fake_es
    store = elastic_on(server, max_retries=1)
    fake.fail("_count", 503, "cluster_block_exception", times=5)
    with pytest.raises(StoreUnavailable, match="503"):
        store.count()


def test_a_query_elasticsearch_rejects_is_a_query_error(fake_es) -> None:  # noqa: F811
    fake, server = fake_es
    store = elastic_on(server)
    fake.fail("_search", 400, "too_many_clauses")
    with pytest.raises(QueryError, match="too_many_clauses"):
        store.search(SearchQuery(text="dang"))
    fake.fail("_search", 400, "too_many_buckets_exception")
    with pytest.raises(QueryError, match="too many groups"):
        store.search(SearchQuery(text="dang"))


def test_bad_filters_fail_before_any_request(fake_es) -> None:  # noqa: F811
    from datetime import date

    fake, server = fake_es
    store = elastic_on(server)
    before = len(fake.requests)
    with pytest.raises(QueryError, match="after"):
        store.search(SearchQuery(date_from=date(2025, 5, 2), date_to=date(2025, 5, 1)))
    with pytest.raises(QueryError, match="too long"):
        store.search(SearchQuery(text="đảng " * 2048))
    assert len(fake.requests) == before


def test_pages_beyond_the_result_window_use_search_after(fake_es, monkeypatch) -> None:  # noqa: F811
    fake, server = fake_es
    monkeypatch.setattr(queries, "MAX_RESULT_WINDOW", 3)
    store = elastic_on(server)
    items = [make_item(i, published_at=f"2025-04-{10 + i:02d}T08:00:00+07:00") for i in range(8)]
    store.upsert(items)
    newest_first = [i.id for i in reversed(items)]
    pages = [[h.item.id for h in store.search(SearchQuery(sort="date", size=2, page=p,
                                                          facets=False)).items]
             for p in (1, 2, 3, 4, 5)]
    assert pages == [newest_first[0:2], newest_first[2:4], newest_first[4:6], newest_first[6:8],
                     []]
    searches = [body for method, path, body in fake.requests if path.endswith("/_search")]
    assert any("search_after" in body for body in searches)
    assert all(body.get("from", 0) + body["size"] <= 3 for body in searches
               if "from" in body and body["size"])
    beyond = store.search(SearchQuery(sort="date", size=2, page=9, facets=False))
    assert beyond.total == 8 and beyond.items == []
