"""ElasticStore: the Store interface on an Elasticsearch cluster (client 8.x or 9.x).

Writes are bulk requests through the client's helpers, idempotent by item id;
reads are the bodies built in store/elastic/queries.py. Errors come back as the
store's own: StoreUnavailable when the cluster cannot be reached (the spool keeps
writes then), QueryError when Elasticsearch rejects a query, StoreError otherwise,
always naming what failed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from elasticsearch import (
    ApiError,
    AuthenticationException,
    AuthorizationException,
    Elasticsearch,
    NotFoundError,
    SerializationError,
    TransportError,
    UnsupportedProductError,
    helpers,
)
from elasticsearch import ConnectionError as ESConnectionError

from dophu.models import Feedback, Item, SourceState
from store.base import (
    CoverageQuery,
    CoverageRow,
    Filters,
    QueryError,
    SearchHit,
    SearchQuery,
    SearchResult,
    Store,
    StoreError,
    StoreUnavailable,
    UpsertResult,
)
from store.elastic import queries
from store.elastic.index import (
    DEFAULT_PREFIX,
    IndexNames,
    body_hash,
    from_source,
    items_template,
    row_hash,
    small_index_bodies,
    tag_fields,
    to_document,
)
from store.query import highlight, parse_query

log = logging.getLogger(__name__)

MGET_CHUNK = 1000
SCAN_PAGE = 1000
_QUERY_ERROR_TYPES = {"query_shard_exception", "parsing_exception", "too_many_clauses",
                      "too_many_nested_clauses", "search_phase_execution_exception",
                      "x_content_parse_exception", "illegal_argument_exception"}
_BUSY_STATUSES = {429, 502, 503, 504}


def _redacted(url: str) -> str:
    """The URL without user:password, for messages and logs."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        parts = parts._replace(netloc=host)
    return urlunsplit(parts)


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise StoreError(f"{name}={value!r}: expected a whole number") from None


def _error_type(exc: ApiError) -> tuple[str, str]:
    """(type, reason) of an Elasticsearch error answer, root cause first."""
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error")
    if isinstance(error, dict):
        causes = error.get("root_cause") or []
        first = causes[0] if causes and isinstance(causes[0], dict) else error
        return str(first.get("type") or error.get("type") or ""), str(
            first.get("reason") or error.get("reason") or "")
    return "", str(error or exc.message or "")


class ElasticStore(Store):
    """Items, feedback and crawl state in Elasticsearch, behind an alias."""

    def __init__(self, url: str, *, api_key: str | None = None, prefix: str | None = None,
                 refresh: bool = False, shards: int | None = None, replicas: int | None = None,
                 request_timeout: float = 30.0, max_retries: int = 3, bulk_chunk: int = 500,
                 bulk_retries: int = 3, bulk_backoff: float = 2.0,
                 client: Elasticsearch | None = None):
        if not url and client is None:
            raise StoreError("no Elasticsearch URL (set ELASTICSEARCH_URL or --es-url)")
        self.url = _redacted(url or "")
        self.names = IndexNames(prefix or os.environ.get("ELASTICSEARCH_INDEX_PREFIX")
                                or DEFAULT_PREFIX)
        self.refresh = refresh
        self.shards = shards if shards is not None else _env_int("ELASTICSEARCH_SHARDS", 1)
        self.replicas = replicas if replicas is not None else _env_int(
            "ELASTICSEARCH_REPLICAS", 1)
        self.bulk_chunk = bulk_chunk
        self.bulk_retries = bulk_retries
        self.bulk_backoff = bulk_backoff
        try:
            self.client = client or Elasticsearch(
                url, api_key=api_key, request_timeout=request_timeout,
                max_retries=max_retries, retry_on_timeout=True)
        except ValueError as exc:
            raise StoreError(f"bad Elasticsearch URL {self.url!r}: {exc}") from exc
        self._ready = False
        try:
            self.ensure_indices()
        except StoreUnavailable as exc:
            # a crawl may start while the cluster is down: its writes go to the spool
            log.warning("%s; the indices will be checked on the next call", exc)

    # ------------------------------------------------------------ errors
    @contextmanager
    def _calling(self, what: str, *, query: bool = False) -> Iterator[None]:
        """Translate client errors into the store's errors, naming ``what`` failed."""
        try:
            yield
        except UnsupportedProductError as exc:
            raise StoreError(f"{self.url} is not Elasticsearch (no 'X-Elastic-Product: "
                             f"Elasticsearch' header) while trying to {what}") from exc
        except (AuthenticationException, AuthorizationException) as exc:
            raise StoreError(f"Elasticsearch at {self.url} refused to {what} "
                             f"(HTTP {exc.meta.status}): check ELASTICSEARCH_API_KEY and its "
                             f"privileges on {self.names.prefix}-*") from exc
        except ApiError as exc:
            kind, reason = _error_type(exc)
            status = exc.meta.status
            if status in _BUSY_STATUSES:
                raise StoreUnavailable(f"Elasticsearch at {self.url} is busy or not ready "
                                       f"(HTTP {status} {kind}) while trying to {what}: "
                                       f"{reason}") from exc
            if query and status == 400 and kind in _QUERY_ERROR_TYPES:
                raise QueryError(f"Elasticsearch cannot run this query: {reason or kind}"
                                 ) from exc
            if "too_many_buckets" in kind:
                raise QueryError(f"too many groups to count ({reason}); group by fewer "
                                 "dimensions or narrow the filters") from exc
            raise StoreError(f"Elasticsearch could not {what}: HTTP {status} {kind}: "
                             f"{reason}") from exc
        except SerializationError as exc:
            raise StoreError(f"cannot {what}: an answer or request was not valid JSON: "
                             f"{exc}") from exc
        except (ESConnectionError, TransportError) as exc:
            raise StoreUnavailable(f"Elasticsearch at {self.url} is unreachable while trying "
                                   f"to {what}: {exc}") from exc

    # ------------------------------------------------------------ indices
    def ensure_indices(self) -> None:
        """Create the template, the dated index behind its alias and the small indices.

        Idempotent and safe when several processes start at once.
        """
        names = self.names
        with self._calling("create the index template"):
            self.client.indices.put_index_template(
                name=names.items_template,
                body=items_template(names, shards=self.shards, replicas=self.replicas))
        with self._calling(f"create the index {names.items_index}"):
            if not self.client.indices.exists_alias(name=names.items):
                self._create_items_index()
        for index, body in small_index_bodies(names, replicas=self.replicas).items():
            with self._calling(f"create the index {index}"):
                if not self.client.indices.exists(index=index):
                    self._create(index, **body)
        self._ready = True

    def _create_items_index(self) -> None:
        names = self.names
        created = self._create(names.items_index,
                                aliases={names.items: {"is_write_index": True}})
        if not created:   # the dated index was there without its alias
            self.client.indices.put_alias(index=names.items_index, name=names.items,
                                          is_write_index=True)

    def _create(self, index: str, **body: Any) -> bool:
        try:
            self.client.indices.create(index=index, **body)
        except ApiError as exc:
            if _error_type(exc)[0] == "resource_already_exists_exception":
                return False
            raise
        return True

    def _ensure(self) -> None:
        if not self._ready:
            self.ensure_indices()

    def drop_all(self) -> None:
        """Delete every index and the template of this prefix (tests; explicit names only)."""
        names = self.names
        with self._calling("delete the indices"):
            concrete: set[str] = {names.items_index}
            with suppress(NotFoundError):
                concrete.update(self.client.indices.get_alias(name=names.items).body)
            for index in sorted(concrete) + list(names.small_indices):
                self.client.indices.delete(index=index, ignore_unavailable=True)
            with suppress(NotFoundError):
                self.client.indices.delete_index_template(name=names.items_template)
        self._ready = False

    def refresh_indices(self) -> None:
        """Make every write so far visible to searches and counts."""
        self._ensure()
        with self._calling("refresh the indices"):
            self.client.indices.refresh(index=[self.names.items, *self.names.small_indices])

    def close(self) -> None:
        self.client.close()

    # ------------------------------------------------------------ writes
    def upsert(self, items: Iterable[Item]) -> UpsertResult:
        result = UpsertResult()
        batch: list[Item] = []
        for item in items:
            batch.append(item)
            if len(batch) >= self.bulk_chunk:
                self._upsert_batch(batch, result)
                batch = []
        if batch:
            self._upsert_batch(batch, result)
        return result

    def _stored_hashes(self, ids: list[str]) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = {}
        for start in range(0, len(ids), MGET_CHUNK):
            chunk = ids[start:start + MGET_CHUNK]
            with self._calling("read the stored items' hashes"):
                docs = self.client.mget(index=self.names.items, ids=chunk,
                                        source=["row_hash", "body_hash"]).body["docs"]
            for doc in docs:
                if doc.get("found"):
                    found[doc["_id"]] = doc.get("_source") or {}
        return found

    def _upsert_batch(self, batch: list[Item], result: UpsertResult) -> None:
        self._ensure()
        unique: dict[str, Item] = {}
        for item in batch:
            unique[item.id] = item          # the last version of an id in a batch wins
        stored = self._stored_hashes(list(unique))
        now = datetime.now(UTC)
        actions: list[dict[str, Any]] = []
        counts = {"new": 0, "updated": 0, "unchanged": 0}
        for item in unique.values():
            old = stored.get(item.id)
            if old is None:
                counts["new"] += 1
                actions.append({"_op_type": "index", "_index": self.names.items,
                                "_id": item.id, "_source": to_document(item, now=now)})
            elif old.get("row_hash") == row_hash(item):
                counts["unchanged"] += 1
            elif old.get("body_hash") == body_hash(item):
                # retagging (feedback, a retrained model): change the tags in place
                counts["updated"] += 1
                actions.append({"_op_type": "update", "_index": self.names.items,
                                "_id": item.id, "retry_on_conflict": 3,
                                "doc": {**tag_fields(item), "updated_at": now.isoformat()}})
            else:
                counts["updated"] += 1
                actions.append({"_op_type": "index", "_index": self.names.items,
                                "_id": item.id, "_source": to_document(item, now=now)})
        if actions:
            self._bulk(actions)
        result.new += counts["new"]
        result.updated += counts["updated"]
        result.unchanged += counts["unchanged"]

    def _bulk(self, actions: list[dict[str, Any]]) -> None:
        """Send actions in chunks, retrying 429s; raise naming every document that failed."""
        failures: list[str] = []
        failed_ids: set[str] = set()
        with self._calling(f"store {len(actions)} items"):
            for ok, info in helpers.streaming_bulk(
                    self.client, actions, chunk_size=self.bulk_chunk,
                    max_chunk_bytes=50 * 1024 * 1024, raise_on_error=False,
                    raise_on_exception=False, max_retries=self.bulk_retries,
                    initial_backoff=self.bulk_backoff, max_backoff=60, yield_ok=False,
                    refresh=self.refresh or None, require_alias=True):
                if ok:
                    continue
                (op, detail), = info.items()
                error = detail.get("error")
                if isinstance(error, dict):
                    reason = f"{error.get('type')}: {error.get('reason')}"
                else:
                    reason = str(error or detail.get("exception") or "unknown error")
                failed_ids.add(str(detail.get("_id")))
                failures.append(f"{detail.get('_id')} ({op}, HTTP {detail.get('status')}: "
                                f"{reason})")
        if failures:
            statuses = {f.split("HTTP ", 1)[1].split(":", 1)[0] for f in failures}
            shown = "; ".join(failures[:10]) + (
                f"; and {len(failures) - 10} more" if len(failures) > 10 else "")
            error_class = (StoreUnavailable if statuses <= {str(s) for s in _BUSY_STATUSES}
                           else StoreError)
            error = error_class(f"{len(failures)} of {len(actions)} items were not stored "
                                f"in {self.names.items}: {shown}")
            error.failed_ids = failed_ids  # type: ignore[attr-defined]  # for the spool
            raise error

    def delete_source(self, source_id: str) -> int:
        self._ensure()
        with self._calling(f"delete the items of source {source_id!r}"):
            self.client.indices.refresh(index=self.names.items)
            answer = self.client.delete_by_query(
                index=self.names.items, query={"term": {"source": source_id}},
                conflicts="proceed", refresh=True)
        return int(answer.body.get("deleted", 0))

    # ------------------------------------------------------------ reads by id
    def get(self, item_id: str) -> Item | None:
        self._ensure()
        source = self._get_doc(self.names.items, item_id, f"read item {item_id!r}")
        return None if source is None else from_source(source)

    def _get_doc(self, index: str, doc_id: str, what: str) -> dict[str, Any] | None:
        """A document's _source, None when there is no such document (realtime)."""
        with self._calling(what):
            try:
                return self.client.get(index=index, id=doc_id).body["_source"]
            except NotFoundError as exc:
                if _error_type(exc)[0] == "index_not_found_exception":
                    raise
                return None

    def known_ids(self, ids: Iterable[str]) -> set[str]:
        self._ensure()
        ids = list(dict.fromkeys(ids))
        found: set[str] = set()
        for start in range(0, len(ids), MGET_CHUNK):
            with self._calling("look up item ids"):
                docs = self.client.mget(index=self.names.items,
                                        ids=ids[start:start + MGET_CHUNK],
                                        source=False).body["docs"]
            found.update(d["_id"] for d in docs if d.get("found"))
        return found

    def _ids_where(self, field: str, value: str, what: str) -> list[str]:
        """Ids with ``field == value``, oldest first (a missing date first, as SQLite)."""
        self._ensure()
        body = {"query": {"term": {field: value}}, "_source": False, "size": 10_000,
                "sort": [{"ts": {"order": "asc", "missing": "_first"}}, {"id": "asc"}]}
        with self._calling(what):
            hits = self.client.search(index=self.names.items, body=body).body["hits"]["hits"]
        return [h["_id"] for h in hits]

    def find_by_content_hash(self, content_hash: str) -> list[str]:
        return self._ids_where("content_hash", content_hash, "find items by content hash")

    def duplicates_of(self, item_id: str) -> list[str]:
        return self._ids_where("duplicate_of", item_id, f"find the duplicates of {item_id!r}")

    def iter_items(self, *, after_id: str | None = None, batch_size: int = 1000
                   ) -> Iterator[Item]:
        self._ensure()
        cursor = after_id
        while True:
            body = iter_body(cursor, batch_size)
            with self._calling("read items in id order"):
                hits = self.client.search(index=self.names.items,
                                          body=body).body["hits"]["hits"]
            if not hits:
                return
            for hit in hits:
                yield from_source(hit["_source"])
            cursor = hits[-1]["_source"]["id"]

    # ------------------------------------------------------------ search
    def _search(self, body: dict[str, Any], what: str) -> dict[str, Any]:
        with self._calling(what, query=True):
            return self.client.search(index=self.names.items, body=body).body

    def count(self, filters: Filters | None = None) -> int:
        self._ensure()
        query = queries.filter_query(filters or Filters())
        with self._calling("count items", query=True):
            return int(self.client.count(index=self.names.items, query=query).body["count"])

    def search(self, query: SearchQuery) -> SearchResult:
        parsed = parse_query(query.text)
        queries.filter_clauses(query)      # a bad filter is a QueryError before any call
        self._ensure()
        offset = (query.page - 1) * query.size
        if offset + query.size <= queries.MAX_RESULT_WINDOW:
            response = self._search(queries.search_body(query, parsed), "search")
        else:
            after = self._walk_to(query, parsed, offset)
            if after is None:      # the page is past the last hit: totals still count
                response = self._search(queries.search_body(
                    query.model_copy(update={"size": 0}), parsed, offset=0), "search")
                response["hits"]["hits"] = []
            else:
                response = self._search(queries.search_body(query, parsed, search_after=after),
                                        "search")
        return read_search(response, query, parsed)

    def _walk_to(self, query: SearchQuery, parsed: Any, offset: int) -> list[Any] | None:
        """The sort key of the hit just before ``offset`` (search_after: no 10,000 limit)."""
        after: list[Any] | None = None
        remaining = offset
        while remaining > 0:
            step = min(remaining, queries.MAX_RESULT_WINDOW)
            hits = self._search(queries.skip_body(query, parsed, step, after),
                                "page through results")["hits"]["hits"]
            if len(hits) < step:
                return None
            after = hits[-1]["sort"]
            remaining -= step
        return after

    def coverage(self, query: CoverageQuery) -> list[CoverageRow]:
        body = queries.coverage_body(query)
        self._ensure()
        return queries.read_coverage(self._search(body, "count coverage"), query)

    # ------------------------------------------------------------ feedback
    def _next_feedback_id(self) -> int:
        with self._calling("number the feedback"):
            answer = self.client.update(
                index=self.names.counters, id="feedback", retry_on_conflict=10,
                script={"lang": "painless",
                        "source": "ctx._source.value = (ctx._source.value == null ? 0 : "
                                  "ctx._source.value) + 1"},
                upsert={"value": 0}, scripted_upsert=True, source=True,
                refresh=self.refresh or None)
        return int(answer.body["get"]["_source"]["value"])

    def add_feedback(self, feedback: Feedback) -> Feedback:
        self._ensure()
        saved = feedback.model_copy(update={"id": self._next_feedback_id()})
        document = {"id": saved.id, "item_id": saved.item_id, "label_kind": saved.label_kind,
                    "label": saved.label, "action": saved.action, "user": saved.user,
                    "at": saved.at.isoformat(), "note": saved.note}
        with self._calling("store feedback"):
            self.client.index(index=self.names.feedback, id=str(saved.id), document=document,
                              refresh=self.refresh or None)
        return saved

    def list_feedback(self, *, item_id: str | None = None, since: datetime | None = None,
                      until: datetime | None = None) -> list[Feedback]:
        self._ensure()
        clauses: list[dict[str, Any]] = []
        if item_id:
            clauses.append({"term": {"item_id": item_id}})
        when: dict[str, str] = {}
        if since:
            when["gte"] = since.isoformat()
        if until:
            when["lt"] = until.isoformat()
        if when:
            clauses.append({"range": {"at": when}})
        query = {"bool": {"filter": clauses}} if clauses else {"match_all": {}}
        return [Feedback(**hit["_source"]) for hit in self._scan(
            self.names.feedback, query, [{"at": "asc"}, {"id": "asc"}], "read feedback")]

    def _scan(self, index: str, query: dict[str, Any], sort: list[Any],
              what: str) -> Iterator[dict[str, Any]]:
        """Every hit of a small index, page by page (search_after)."""
        after: list[Any] | None = None
        while True:
            body: dict[str, Any] = {"query": query, "sort": sort, "size": SCAN_PAGE}
            if after is not None:
                body["search_after"] = after
            with self._calling(what):
                hits = self.client.search(index=index, body=body).body["hits"]["hits"]
            yield from hits
            if len(hits) < SCAN_PAGE:
                return
            after = hits[-1]["sort"]

    # ------------------------------------------------------------ source state
    def get_source_state(self, source_id: str) -> SourceState | None:
        self._ensure()
        source = self._get_doc(self.names.source_state, source_id,
                               f"read the state of source {source_id!r}")
        return None if source is None else SourceState.model_validate(source["state"])

    def put_source_state(self, state: SourceState) -> None:
        self._ensure()
        document = {"source_id": state.source_id, "state": state.model_dump(mode="json"),
                    "updated_at": datetime.now(UTC).isoformat()}
        with self._calling(f"store the state of source {state.source_id!r}"):
            self.client.index(index=self.names.source_state, id=state.source_id,
                              document=document, refresh=self.refresh or None)

    def list_source_states(self) -> dict[str, SourceState]:
        self._ensure()
        return {hit["_source"]["source_id"]: SourceState.model_validate(hit["_source"]["state"])
                for hit in self._scan(self.names.source_state, {"match_all": {}},
                                      [{"source_id": "asc"}], "read the source states")}


def iter_body(after_id: str | None, size: int) -> dict[str, Any]:
    """One page of items in id order (``id`` is a keyword: byte order, as SQLite)."""
    query: dict[str, Any] = ({"range": {"id": {"gt": after_id}}} if after_id
                             else {"match_all": {}})
    return {"query": query, "sort": [{"id": "asc"}], "size": size,
            "_source": {"excludes": ["row_hash", "body_hash", "updated_at"]}}


def read_search(response: dict[str, Any], query: SearchQuery, parsed: Any) -> SearchResult:
    """SearchResult from a search answer; highlights by the same function as SQLite's."""
    tokens = parsed.positive_tokens
    hits = []
    for hit in response["hits"]["hits"]:
        item = from_source(hit["_source"])
        highlights: dict[str, str] = {}
        if query.highlight and tokens:
            for field, value in (("title", item.title), ("text", item.text)):
                snippet = highlight(value, tokens, whole=field == "title")
                if snippet:
                    highlights[field] = snippet
        score = None if parsed.empty or hit.get("_score") is None else float(hit["_score"])
        hits.append(SearchHit(item=item, score=score, highlights=highlights))
    facets = queries.read_facets(response["aggregations"]) if query.facets else {}
    return SearchResult(total=queries.total_hits(response), items=hits, facets=facets)
