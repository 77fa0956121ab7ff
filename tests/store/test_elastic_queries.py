"""The request bodies the Elasticsearch store builds, compared with expected bodies."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import pytest

from store.base import CoverageQuery, Filters, QueryError, SearchQuery, StoreError
from store.elastic import queries
from store.query import parse_query
from tests.store.es_testkit import fixture_names, load_fixture
from tests.store.test_store_contract import test_hostile_queries_give_a_sane_result as hostile

HOSTILE = next(m.args[1] for m in hostile.pytestmark if m.name == "parametrize")


@pytest.mark.parametrize("name", fixture_names("search_"))
def test_search_bodies_are_the_recorded_ones(name: str) -> None:
    data = load_fixture(name)
    query = SearchQuery(**data["query"])
    assert queries.search_body(query, parse_query(query.text)) == data["request"]["body"]


@pytest.mark.parametrize("name", fixture_names("coverage_"))
def test_coverage_bodies_are_the_recorded_ones(name: str) -> None:
    data = load_fixture(name)
    assert queries.coverage_body(CoverageQuery(**data["query"])) == data["request"]["body"]


def _leaves(body: Any, key: str | None = None):
    if isinstance(body, dict):
        for k, v in body.items():
            yield from _leaves(v, k)
    elif isinstance(body, list):
        for v in body:
            yield from _leaves(v, key)
    else:
        yield key, body


@pytest.mark.parametrize("text", [*HOSTILE, 'dai "hoi dang" OR mien -"mat bang" thoi tie*'])
def test_user_text_never_becomes_query_syntax(text: str) -> None:
    parsed = parse_query(text)
    body = queries.search_body(SearchQuery(text=text), parsed)
    dumped = json.dumps(body)
    assert "query_string" not in dumped
    for key, value in _leaves(body["query"]):
        if key in ("query", "value"):
            # only folded words separated by single spaces reach the analyzer
            assert re.fullmatch(r"[^\W_]+( [^\W_]+)*", value), (key, value)
            assert value == value.lower() and "đ" not in value


def test_text_query_shape_and_or_phrase_prefix_exclusion() -> None:
    parsed = parse_query('"Đại hội" OR mien "thoi tie*" -"mặt bằng" quoc*')
    query = queries.text_query(parsed)["bool"]
    either, prefix_phrase, prefix = query["must"]
    assert [s["bool"]["should"][0] for s in either["bool"]["should"]] == [
        {"match_phrase": {"title": {"query": "dai hoi", "boost": 3.0}}},
        {"match_phrase": {"title": {"query": "mien", "boost": 3.0}}}]
    assert prefix_phrase["bool"]["should"][1] == {"match_phrase_prefix": {"text": {
        "query": "thoi tie", "max_expansions": queries.PHRASE_PREFIX_EXPANSIONS}}}
    assert prefix["bool"]["should"][1] == {"prefix": {"text": {"value": "quoc"}}}
    assert query["must_not"][0]["bool"]["should"][1] == {
        "match_phrase": {"text": {"query": "mat bang"}}}


def test_filters_are_exact_clauses() -> None:
    clauses = queries.filter_clauses(Filters(
        themes=["dai-hoi-dang"], min_score=0.8, sources=["baocantho"],
        date_from=date(2025, 4, 27), date_to=date(2025, 4, 27), relevant=False,
        include_duplicates=False))
    assert clauses == [
        {"terms": {"source": ["baocantho"]}},
        {"nested": {"path": "themes", "query": {"bool": {"filter": [
            {"terms": {"themes.id": ["dai-hoi-dang"]}},
            {"range": {"themes.score": {"gte": 0.8}}}]}}}},
        # one local day: midnight to midnight in Asia/Ho_Chi_Minh
        {"range": {"ts": {"gte": "2025-04-27T00:00:00+07:00", "lt": "2025-04-28T00:00:00+07:00"}}},
        {"term": {"relevant": False}},
        {"bool": {"must_not": [{"exists": {"field": "duplicate_of"}}]}},
    ]
    assert queries.filter_query(Filters()) == {"match_all": {}}
    with pytest.raises(QueryError, match="after"):
        queries.filter_clauses(Filters(date_from=date(2025, 5, 1), date_to=date(2025, 4, 1)))


def test_sort_orders_follow_the_embedded_store() -> None:
    assert queries.sort_clause("relevance", True)[0] == {"_score": {"order": "desc"}}
    assert queries.sort_clause("relevance", False) == queries.sort_clause("date", True) == [
        {"ts": {"order": "desc", "missing": "_last"}}, {"id": {"order": "desc"}}]
    assert queries.sort_clause("date_asc", True) == [
        {"ts": {"order": "asc", "missing": "_first"}}, {"id": {"order": "asc"}}]


def test_deep_pages_use_search_after() -> None:
    query = SearchQuery(text="dang", page=80, size=200, facets=False)
    parsed = parse_query(query.text)
    skip = queries.skip_body(query, parsed, 10_000, [3.2, 1745771400000, "abc"])
    assert skip["search_after"] == [3.2, 1745771400000, "abc"] and "from" not in skip
    assert skip["_source"] is False and skip["track_total_hits"] is False
    page = queries.search_body(query, parsed, search_after=[1.0, 2, "z"])
    assert "from" not in page and page["search_after"] == [1.0, 2, "z"]


def test_coverage_over_two_tag_kinds_nests_and_comes_back_to_items() -> None:
    body = queries.coverage_body(CoverageQuery(group_by=["theme", "anniversary", "source"],
                                               interval="month", min_score=0.5))
    theme = body["aggs"]["g0_theme"]
    assert theme["nested"] == {"path": "themes"}
    scored = theme["aggs"]["scored"]
    assert scored["filter"] == {"range": {"themes.score": {"gte": 0.5}}}
    items = scored["aggs"]["keys"]["aggs"]["items"]
    assert items["reverse_nested"] == {}
    anniversary = items["aggs"]["g1_anniversary"]
    assert anniversary["nested"] == {"path": "anniversaries"}
    inner = anniversary["aggs"]["scored"]["aggs"]["keys"]["aggs"]["items"]["aggs"]
    assert inner["g2_source"]["terms"] == {"field": "source", "size": queries.GROUP_SIZE}
    assert inner["g2_source"]["aggs"]["period"]["date_histogram"] == {
        "field": "ts", "calendar_interval": "month", "time_zone": "Asia/Ho_Chi_Minh",
        "min_doc_count": 1, "format": "yyyy-MM-dd"}


def test_two_tag_kinds_are_read_back_as_rows() -> None:
    query = CoverageQuery(group_by=["theme", "anniversary"])
    response = {"hits": {"total": {"value": 2, "relation": "eq"}, "hits": []}, "aggregations": {
        "g0_theme": {"doc_count": 3, "scored": {"doc_count": 3, "keys": {
            "sum_other_doc_count": 0, "buckets": [
                {"key": "t1", "doc_count": 2, "items": {"doc_count": 2, "g1_anniversary": {
                    "doc_count": 1, "scored": {"doc_count": 1, "keys": {
                        "sum_other_doc_count": 0, "buckets": [
                            {"key": "a1", "doc_count": 1, "items": {"doc_count": 1}}]}}}}},
                {"key": "t0", "doc_count": 1, "items": {"doc_count": 1, "g1_anniversary": {
                    "doc_count": 0, "scored": {"doc_count": 0, "keys": {
                        "sum_other_doc_count": 0, "buckets": []}}}}}]}}}}}
    rows = queries.read_coverage(response, query)
    assert [(r.keys, r.count) for r in rows] == [({"theme": "t1", "anniversary": "a1"}, 1)]


def test_too_many_groups_is_an_error_not_a_silent_cut() -> None:
    query = CoverageQuery(group_by=["source"])
    response = {"hits": {"total": {"value": 9}}, "aggregations": {"g0_source": {
        "sum_other_doc_count": 5, "buckets": [{"key": "a", "doc_count": 4}]}}}
    with pytest.raises(StoreError, match="more than"):
        queries.read_coverage(response, query)


@pytest.mark.parametrize(("bucket_start", "interval", "key"), [
    ("2025-04-21", "week", "2025-W17"), ("2024-12-30", "week", "2025-W01"),
    ("2026-12-28", "week", "2026-W53"), ("2025-04-01", "month", "2025-04"),
    ("2025-04-27", "day", "2025-04-27"),
])
def test_histogram_keys_become_the_embedded_stores_period_keys(bucket_start: str, interval: str,
                                                               key: str) -> None:
    from datetime import datetime

    millis = int(datetime.fromisoformat(bucket_start + "T00:00:00+07:00").timestamp() * 1000)
    assert queries.period_key(millis, interval) == key


def test_facets_are_ordered_by_count_then_value() -> None:
    def terms(pairs):
        return {"buckets": [{"key": k, "doc_count": n} for k, n in pairs]}

    aggs = {"source": terms([("b", 1), ("a", 1), ("c", 3)]), "unit": terms([]),
            "kind": terms([]),
            "theme": {"ids": {"buckets": [
                {"key": "x", "doc_count": 2, "items": {"doc_count": 2}}]}},
            "anniversary": {"ids": {"buckets": []}}}
    facets = queries.read_facets(aggs)
    assert list(facets["source"].items()) == [("c", 3), ("a", 1), ("b", 1)]
    assert facets["theme"] == {"x": 2} and facets["anniversary"] == {}
