"""Request bodies for searches, counts and coverage, and reading their answers back.

Pure functions of the query shapes in store/base.py, so the bodies can be compared
with expected ones and the answers mapped without a server. User text never reaches
Elasticsearch as query syntax: it is parsed by store/query.py (the grammar both
backends share) and each folded token goes into ``match_phrase``/``prefix`` clauses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dophu.dates import LOCAL_TZ, iso_week_key, local_day_bounds, month_key
from store.base import CoverageQuery, CoverageRow, Filters, QueryError, SearchQuery, StoreError
from store.elastic.index import KEYWORD_DIMENSIONS, TAG_PATHS
from store.query import ParsedQuery, Phrase

TITLE_BOOST = 3.0            # the embedded store's bm25 weights title 3 : text 1
PHRASE_PREFIX_EXPANSIONS = 1000
FACET_SIZE = 10_000          # every value, like the embedded store (sources are thousands)
GROUP_SIZE = 10_000          # per coverage level; more is an error, never a silent cut
MAX_RESULT_WINDOW = 10_000   # index.max_result_window: deeper pages use search_after
TIME_ZONE = "Asia/Ho_Chi_Minh"
HISTOGRAM_FORMAT = "yyyy-MM-dd"

_KEYWORD_FILTERS = (("source", "sources"), ("unit", "units"), ("kind", "kinds"))


# ------------------------------------------------------------------ filters


def filter_clauses(filters: Filters) -> list[dict[str, Any]]:
    """The filters as non-scoring clauses; raise QueryError for impossible ones."""
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise QueryError("'from' is after 'to'")
    clauses: list[dict[str, Any]] = []
    for field, attr in _KEYWORD_FILTERS:
        values = getattr(filters, attr)
        if values:
            clauses.append({"terms": {field: list(values)}})
    for kind, attr in (("theme", "themes"), ("anniversary", "anniversaries")):
        values = getattr(filters, attr)
        if values:
            path = TAG_PATHS[kind]
            clauses.append({"nested": {"path": path, "query": {"bool": {"filter": [
                {"terms": {f"{path}.id": list(values)}},
                {"range": {f"{path}.score": {"gte": filters.min_score}}},
            ]}}}})
    if filters.date_from or filters.date_to:
        # local calendar days: [first 00:00, last+1 00:00) in Asia/Ho_Chi_Minh
        bounds: dict[str, str] = {}
        if filters.date_from:
            bounds["gte"] = local_day_bounds(filters.date_from, filters.date_from)[0].isoformat()
        if filters.date_to:
            bounds["lt"] = local_day_bounds(filters.date_to, filters.date_to)[1].isoformat()
        clauses.append({"range": {"ts": bounds}})
    if filters.relevant is not None:
        clauses.append({"term": {"relevant": filters.relevant}})
    if not filters.include_duplicates:
        clauses.append({"bool": {"must_not": [{"exists": {"field": "duplicate_of"}}]}})
    return clauses


def filter_query(filters: Filters) -> dict[str, Any]:
    clauses = filter_clauses(filters)
    return {"bool": {"filter": clauses}} if clauses else {"match_all": {}}


# ------------------------------------------------------------------ text


def _field_phrase(field: str, phrase: Phrase, boost: float | None) -> dict[str, Any]:
    text = " ".join(phrase.tokens)
    if phrase.prefix and len(phrase.tokens) == 1:
        clause: dict[str, Any] = {"value": text}
        kind = "prefix"
    elif phrase.prefix:
        clause = {"query": text, "max_expansions": PHRASE_PREFIX_EXPANSIONS}
        kind = "match_phrase_prefix"
    else:
        clause = {"query": text}
        kind = "match_phrase"
    if boost is not None:
        clause["boost"] = boost
    return {kind: {field: clause}}


def phrase_query(phrase: Phrase) -> dict[str, Any]:
    """The phrase in the title or in the text (never across the two, as in FTS5)."""
    return {"bool": {"should": [_field_phrase("title", phrase, TITLE_BOOST),
                                _field_phrase("text", phrase, None)],
                     "minimum_should_match": 1}}


def text_query(parsed: ParsedQuery) -> dict[str, Any]:
    """AND of clauses, each an OR of phrases; excluded phrases in neither field."""
    must = []
    for clause in parsed.clauses:
        if len(clause) == 1:
            must.append(phrase_query(clause[0]))
        else:
            must.append({"bool": {"should": [phrase_query(p) for p in clause],
                                  "minimum_should_match": 1}})
    query: dict[str, Any] = {"must": must}
    if parsed.excluded:
        query["must_not"] = [phrase_query(p) for p in parsed.excluded]
    return {"bool": query}


def search_query(parsed: ParsedQuery, filters: Filters) -> dict[str, Any]:
    if parsed.empty:
        return filter_query(filters)
    query = text_query(parsed)
    clauses = filter_clauses(filters)
    if clauses:
        query["bool"]["filter"] = clauses
    return query


# ------------------------------------------------------------------ search


def sort_clause(sort: str, has_text: bool) -> list[Any]:
    """The embedded store's orders; ``id`` breaks ties so search_after is stable.

    SQLite puts a missing date last when newest first and first when oldest first.
    """
    newest = [{"ts": {"order": "desc", "missing": "_last"}}, {"id": {"order": "desc"}}]
    if sort == "date_asc":
        return [{"ts": {"order": "asc", "missing": "_first"}}, {"id": {"order": "asc"}}]
    if sort == "relevance" and has_text:
        return [{"_score": {"order": "desc"}}, *newest]
    return newest


def facet_aggs() -> dict[str, Any]:
    aggs: dict[str, Any] = {dim: {"terms": {"field": dim, "size": FACET_SIZE}}
                            for dim in ("source", "unit", "kind")}
    for dim, path in TAG_PATHS.items():
        aggs[dim] = {"nested": {"path": path}, "aggs": {"ids": {
            "terms": {"field": f"{path}.id", "size": FACET_SIZE},
            "aggs": {"items": {"reverse_nested": {}}}}}}
    return aggs


def search_body(query: SearchQuery, parsed: ParsedQuery, *, offset: int | None = None,
                search_after: list[Any] | None = None) -> dict[str, Any]:
    """The search request for one page (``offset`` from/size, or after a sort key)."""
    body: dict[str, Any] = {
        "query": search_query(parsed, query),
        "sort": sort_clause(query.sort, not parsed.empty),
        "size": query.size,
        "track_total_hits": True,
        "_source": {"excludes": ["row_hash", "body_hash", "updated_at"]},
    }
    if not parsed.empty and query.sort != "relevance":
        body["track_scores"] = True      # a score even when sorted by date, as SQLite gives
    if search_after is not None:
        body["search_after"] = search_after
    else:
        body["from"] = (query.page - 1) * query.size if offset is None else offset
    if query.facets:
        body["aggs"] = facet_aggs()
    return body


def skip_body(query: SearchQuery, parsed: ParsedQuery, size: int,
              search_after: list[Any] | None) -> dict[str, Any]:
    """A walk towards a deep page: only the sort keys of ``size`` hits."""
    body: dict[str, Any] = {
        "query": search_query(parsed, query),
        "sort": sort_clause(query.sort, not parsed.empty),
        "size": size,
        "track_total_hits": False,
        "_source": False,
    }
    if search_after is not None:
        body["search_after"] = search_after
    return body


def read_facets(aggregations: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Facets ordered as the embedded store orders them: count desc, then value."""
    facets: dict[str, dict[str, int]] = {}
    for dim in ("unit", "source", "kind"):
        buckets = aggregations[dim]["buckets"]
        facets[dim] = _ordered((b["key"], b["doc_count"]) for b in buckets)
    for dim in TAG_PATHS:
        buckets = aggregations[dim]["ids"]["buckets"]
        facets[dim] = _ordered((b["key"], b["items"]["doc_count"]) for b in buckets)
    return facets


def _ordered(pairs: Any) -> dict[str, int]:
    return dict(sorted(pairs, key=lambda kv: (-kv[1], kv[0])))


# ------------------------------------------------------------------ coverage


def _group_aggs(dims: list[str], query: CoverageQuery, level: int = 0) -> dict[str, Any]:
    if not dims:
        if query.interval is None:
            return {}
        return {"period": {"date_histogram": {
            "field": "ts", "calendar_interval": query.interval, "time_zone": TIME_ZONE,
            "min_doc_count": 1, "format": HISTOGRAM_FORMAT}}}
    dim, rest = dims[0], _group_aggs(dims[1:], query, level + 1)
    name = f"g{level}_{dim}"
    if dim in KEYWORD_DIMENSIONS:
        agg: dict[str, Any] = {"terms": {"field": dim, "size": GROUP_SIZE}}
        if rest:
            agg["aggs"] = rest
        return {name: agg}
    path = TAG_PATHS[dim]
    items: dict[str, Any] = {"reverse_nested": {}}
    if rest:
        items["aggs"] = rest
    return {name: {"nested": {"path": path}, "aggs": {"scored": {
        "filter": {"range": {f"{path}.score": {"gte": query.min_score}}},
        "aggs": {"keys": {"terms": {"field": f"{path}.id", "size": GROUP_SIZE},
                          "aggs": {"items": items}}}}}}}


def coverage_body(query: CoverageQuery) -> dict[str, Any]:
    """Counts per group: terms per keyword, nested terms per tag, a local date histogram."""
    body: dict[str, Any] = {"size": 0, "track_total_hits": True,
                            "query": filter_query(query)}
    aggs = _group_aggs(list(query.group_by), query)
    if aggs:
        body["aggs"] = aggs
    return body


def period_key(epoch_millis: int, interval: str) -> str:
    """A histogram bucket's start as the embedded store names the period."""
    day = datetime.fromtimestamp(epoch_millis / 1000, LOCAL_TZ).date()
    if interval == "week":
        return iso_week_key(day)
    if interval == "month":
        return month_key(day)
    return day.isoformat()


def _check_complete(terms: dict[str, Any], dim: str) -> None:
    if terms.get("sum_other_doc_count"):
        raise StoreError(f"coverage by {dim}: more than {GROUP_SIZE} groups; "
                         "narrow the filters (dates, units, sources)")


def read_coverage(response: dict[str, Any], query: CoverageQuery) -> list[CoverageRow]:
    """Rows as the embedded store gives them (sorted by period, then keys)."""
    dims = list(query.group_by)
    if not dims and query.interval is None:
        return [CoverageRow(keys={}, period=None, count=total_hits(response))]
    rows: list[CoverageRow] = []

    def walk(aggs: dict[str, Any], level: int, keys: dict[str, str]) -> None:
        if level == len(dims):
            for bucket in aggs["period"]["buckets"]:
                if bucket["doc_count"]:
                    rows.append(CoverageRow(keys=dict(keys),
                                            period=period_key(bucket["key"], query.interval),
                                            count=bucket["doc_count"]))
            return
        dim = dims[level]
        agg = aggs[f"g{level}_{dim}"]
        nested = dim not in KEYWORD_DIMENSIONS
        terms = agg["scored"]["keys"] if nested else agg
        _check_complete(terms, dim)
        for bucket in terms["buckets"]:
            here = {**keys, dim: str(bucket["key"])}
            items = bucket["items"] if nested else bucket   # items, not tags, are counted
            if level + 1 == len(dims) and query.interval is None:
                if items["doc_count"]:
                    rows.append(CoverageRow(keys=here, period=None, count=items["doc_count"]))
            else:
                walk(items, level + 1, here)

    walk(response.get("aggregations") or {}, 0, {})
    rows.sort(key=lambda row: (row.period or "", tuple(row.keys.values())))
    return rows


def total_hits(response: dict[str, Any]) -> int:
    total = response["hits"]["total"]
    return total["value"] if isinstance(total, dict) else int(total)
