"""A small Elasticsearch stand-in served over HTTP by pytest-httpserver.

No Elasticsearch server can run on the development machines, so the store is
tested against this: the real ``elasticsearch`` client and transport talk HTTP to
it, and it answers as Elasticsearch does (``X-Elastic-Product`` header, error
bodies, bulk item results). It keeps documents in memory and evaluates the
structured queries the store sends by id, term, range and bool (writes, mget,
get, counts, id-ordered scans); full-text searches and aggregations are answered
from recorded bodies (``es_fixtures/*.json``), matched by the exact request body,
and anything else is a 400 naming the request, so a change in what the store
sends is seen.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from werkzeug import Request, Response

PRODUCT_HEADERS = {"X-Elastic-Product": "Elasticsearch"}


class Unsupported(Exception):
    """A query this fake does not evaluate (answered from recordings, if any)."""


@dataclass
class Recording:
    path: str
    body: Any
    response: dict[str, Any]
    name: str = ""
    used: int = 0


@dataclass
class FakeIndex:
    mappings: dict[str, Any]
    settings: dict[str, Any]
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    seq_no: int = 0


def _error(status: int, kind: str, reason: str, **extra: Any) -> Response:
    body = {"error": {"root_cause": [{"type": kind, "reason": reason}], "type": kind,
                      "reason": reason, **extra}, "status": status}
    return Response(json.dumps(body), status=status, headers=PRODUCT_HEADERS,
                    content_type="application/json")


def _parse_time(value: Any) -> Any:
    if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}T", value):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


class FakeElasticsearch:
    """The requests ElasticStore makes, answered from memory or from recordings."""

    def __init__(self) -> None:
        self.indices: dict[str, FakeIndex] = {}
        self.aliases: dict[str, str] = {}
        self.templates: dict[str, dict[str, Any]] = {}
        self.recordings: list[Recording] = []
        self.requests: list[tuple[str, str, Any]] = []
        self.product_header = True
        self.failures: list[tuple[str, int, str, int]] = []   # path part, status, type, times
        self.item_rejections: dict[str, list[tuple[int, str, str]]] = {}

    # ------------------------------------------------------------ test controls
    def record(self, path: str, body: Any, response: dict[str, Any], name: str = "") -> None:
        self.recordings.append(Recording(path, body, response, name))

    def fail(self, path_part: str, status: int, kind: str, times: int = 1) -> None:
        """The next ``times`` requests whose path holds ``path_part`` get this error."""
        self.failures.append((path_part, status, kind, times))

    def reject_item(self, doc_id: str, status: int, kind: str, reason: str,
                    times: int = 1) -> None:
        """Bulk item results for ``doc_id``: this error ``times`` times, then success."""
        self.item_rejections.setdefault(doc_id, []).extend([(status, kind, reason)] * times)

    def docs(self, alias_or_index: str) -> dict[str, dict[str, Any]]:
        return self.indices[self._resolve(alias_or_index)].docs

    # ------------------------------------------------------------ plumbing
    def handle(self, request: Request) -> Response:
        raw = request.get_data()
        body: Any = None
        if raw:
            text = raw.decode("utf-8")
            if "ndjson" in (request.content_type or ""):
                body = [json.loads(line) for line in text.splitlines() if line.strip()]
            else:
                body = json.loads(text)
        path = unquote(request.path)
        self.requests.append((request.method, path, body))
        for number, (part, status, kind, times) in enumerate(self.failures):
            if part in path and times > 0:
                self.failures[number] = (part, status, kind, times - 1)
                return _error(status, kind, f"injected {kind}")
        try:
            status, answer = self._route(request.method, path, request.args, body)
        except Unsupported as exc:
            status, answer = 400, {"error": {
                "root_cause": [{"type": "fake_unsupported", "reason": str(exc)}],
                "type": "fake_unsupported", "reason": str(exc)}, "status": 400}
        headers = dict(PRODUCT_HEADERS) if self.product_header else {}
        if answer is None:
            return Response(status=status, headers=headers)
        return Response(json.dumps(answer), status=status, headers=headers,
                        content_type="application/json")

    def _resolve(self, name: str) -> str:
        return self.aliases.get(name, name)

    def _index(self, name: str) -> FakeIndex | None:
        return self.indices.get(self._resolve(name))

    def _missing(self, name: str) -> tuple[int, dict[str, Any]]:
        return 404, {"error": {"root_cause": [{"type": "index_not_found_exception",
                                               "reason": f"no such index [{name}]"}],
                               "type": "index_not_found_exception",
                               "reason": f"no such index [{name}]"}, "status": 404}

    # ------------------------------------------------------------ routing
    def _route(self, method: str, path: str, args: Any, body: Any
               ) -> tuple[int, dict[str, Any] | None]:
        parts = [p for p in path.split("/") if p]
        if not parts:
            return 200, {"name": "fake", "cluster_name": "fake", "version": {
                "number": "9.0.0", "build_flavor": "default"}, "tagline": "You Know, for Search"}
        if parts[0] == "_index_template":
            if method == "DELETE":
                return (200, {"acknowledged": True}) if self.templates.pop(parts[1], None) \
                    else (404, {"error": {"type": "resource_not_found_exception"}})
            self.templates[parts[1]] = body
            return 200, {"acknowledged": True}
        if parts[0] == "_alias":
            name = parts[1]
            if name not in self.aliases:
                return (404, None) if method == "HEAD" else (404, {
                    "error": f"alias [{name}] missing", "status": 404})
            return 200, None if method == "HEAD" else {
                self.aliases[name]: {"aliases": {name: {}}}}
        if parts[0] == "_bulk":
            return self._bulk(body, args)
        names = parts[0].split(",")
        if len(parts) == 1:
            return self._index_level(method, names[0], body, args)
        action = parts[1]
        if action == "_alias":
            self.aliases[parts[2]] = names[0]
            return 200, {"acknowledged": True}
        if action == "_refresh":
            return 200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}
        index = self._index(names[0])
        if index is None:
            return self._missing(names[0])
        if action == "_doc" and method == "GET":
            doc = index.docs.get(parts[2])
            if doc is None:
                return 404, {"_index": self._resolve(names[0]), "_id": parts[2], "found": False}
            return 200, {"_index": self._resolve(names[0]), "_id": parts[2], "found": True,
                         "_source": doc}
        if action == "_doc":
            created = parts[2] not in index.docs
            index.docs[parts[2]] = body
            return (201 if created else 200), {"_id": parts[2], "result":
                                               "created" if created else "updated"}
        if action == "_update":
            return self._update(names[0], index, parts[2], body)
        if action == "_mget":
            return 200, {"docs": [self._got(names[0], index, i, args.get("_source"))
                                  for i in body["ids"]]}
        if action == "_count":
            query = (body or {}).get("query", {"match_all": {}})
            return 200, {"count": sum(1 for d in index.docs.values() if self._match(d, query))}
        if action == "_search":
            return self._search(path, names[0], index, body or {})
        if action == "_delete_by_query":
            doomed = [i for i, d in index.docs.items() if self._match(d, body["query"])]
            for doc_id in doomed:
                del index.docs[doc_id]
            return 200, {"deleted": len(doomed), "failures": []}
        raise Unsupported(f"{method} {path}")

    def _index_level(self, method: str, name: str, body: Any, args: Any
                     ) -> tuple[int, dict[str, Any] | None]:
        if method == "HEAD":
            return (200 if self._resolve(name) in self.indices else 404), None
        if method == "DELETE":
            if self.indices.pop(name, None) is None and args.get("ignore_unavailable") != "true":
                return self._missing(name)
            self.aliases = {a: i for a, i in self.aliases.items() if i != name}
            return 200, {"acknowledged": True}
        if method == "PUT":
            if name in self.indices:
                return 400, {"error": {"root_cause": [{
                    "type": "resource_already_exists_exception",
                    "reason": f"index [{name}] already exists"}],
                    "type": "resource_already_exists_exception",
                    "reason": f"index [{name}] already exists"}, "status": 400}
            body = body or {}
            mappings, settings = body.get("mappings"), body.get("settings", {})
            for template in self.templates.values():
                if any(re.fullmatch(p.replace("*", ".*"), name)
                       for p in template["index_patterns"]):
                    mappings = mappings or template["template"]["mappings"]
                    settings = {**template["template"]["settings"], **settings}
            self.indices[name] = FakeIndex(mappings or {}, settings)
            for alias in body.get("aliases", {}):
                self.aliases[alias] = name
            return 200, {"acknowledged": True, "index": name}
        raise Unsupported(f"{method} /{name}")

    def _got(self, name: str, index: FakeIndex, doc_id: str, source: str | None
             ) -> dict[str, Any]:
        doc = index.docs.get(doc_id)
        if doc is None:
            return {"_index": self._resolve(name), "_id": doc_id, "found": False}
        answer: dict[str, Any] = {"_index": self._resolve(name), "_id": doc_id,
                                  "_version": index.versions.get(doc_id, 1), "found": True}
        if source != "false":
            fields = source.split(",") if source else None
            answer["_source"] = {k: v for k, v in doc.items() if fields is None or k in fields}
        return answer

    # ------------------------------------------------------------ writes
    def _strict_problem(self, index: FakeIndex, doc: dict[str, Any]) -> str | None:
        """What ``dynamic: strict`` would reject in this document, if anything."""
        properties = index.mappings.get("properties", {})
        for key, value in doc.items():
            if key not in properties:
                return (f"mapping set to strict, dynamic introduction of [{key}] within "
                        "[_doc] is not allowed")
            nested = properties[key]
            if nested.get("type") == "nested" and value:
                for entry in value:
                    for sub in entry:
                        if sub not in nested["properties"]:
                            return f"dynamic introduction of [{sub}] within [{key}]"
        return None

    def _bulk(self, lines: list[dict[str, Any]], args: Any) -> tuple[int, dict[str, Any]]:
        items, errors, position = [], False, 0
        while position < len(lines):
            (op, meta), = lines[position].items()
            payload = lines[position + 1] if op != "delete" else None
            position += 2 if op != "delete" else 1
            doc_id, name = meta["_id"], meta["_index"]
            result: dict[str, Any] = {"_index": self._resolve(name), "_id": doc_id}
            queued = self.item_rejections.get(doc_id)
            index = self._index(name)
            if args.get("require_alias") == "true" and name not in self.aliases:
                result.update(status=404, error={"type": "index_not_found_exception",
                                                 "reason": f"no such alias [{name}]"})
            elif queued:
                status, kind, reason = queued.pop(0)
                result.update(status=status, error={"type": kind, "reason": reason})
            elif index is None:
                result.update(status=404, error={"type": "index_not_found_exception",
                                                 "reason": name})
            elif op == "update":
                if doc_id not in index.docs:
                    result.update(status=404, error={"type": "document_missing_exception",
                                                     "reason": f"[{doc_id}]: document missing"})
                else:
                    merged = {**index.docs[doc_id], **payload["doc"]}
                    problem = self._strict_problem(index, merged)
                    if problem:
                        result.update(status=400, error={
                            "type": "strict_dynamic_mapping_exception", "reason": problem})
                    else:
                        index.docs[doc_id] = merged
                        index.versions[doc_id] = index.versions.get(doc_id, 1) + 1
                        result.update(status=200, result="updated")
            else:
                problem = self._strict_problem(index, payload)
                if problem:
                    result.update(status=400, error={
                        "type": "strict_dynamic_mapping_exception", "reason": problem})
                else:
                    created = doc_id not in index.docs
                    index.docs[doc_id] = payload
                    index.versions[doc_id] = index.versions.get(doc_id, 0) + 1
                    result.update(status=201 if created else 200,
                                  result="created" if created else "updated")
            errors = errors or "error" in result
            items.append({op: result})
        return 200, {"took": 1, "errors": errors, "items": items}

    def _update(self, name: str, index: FakeIndex, doc_id: str, body: dict[str, Any]
                ) -> tuple[int, dict[str, Any]]:
        script = (body.get("script") or {}).get("source", "")
        if "ctx._source.value" not in script:
            raise Unsupported(f"update script {script!r}")
        current = index.docs.get(doc_id) or dict(body.get("upsert") or {"value": 0})
        current = {"value": (current.get("value") or 0) + 1}
        index.docs[doc_id] = current
        return 200, {"_index": self._resolve(name), "_id": doc_id, "result": "updated",
                     "get": {"found": True, "_source": current}}

    # ------------------------------------------------------------ reads
    def _search(self, path: str, name: str, index: FakeIndex, body: dict[str, Any]
                ) -> tuple[int, dict[str, Any]]:
        for recording in self.recordings:
            if path.endswith(recording.path) and recording.body == body:
                recording.used += 1
                return 200, json.loads(json.dumps(recording.response))
        if "aggs" in body or "aggregations" in body:
            raise Unsupported(f"no recorded answer for this aggregation: {json.dumps(body)}")
        docs = [d for d in index.docs.values() if self._match(d, body.get("query",
                                                                        {"match_all": {}}))]
        sort = body.get("sort", [])
        keyed = sorted(docs, key=lambda d: self._key(self._sort_values(d, sort), sort))
        if "search_after" in body:
            after = self._key(body["search_after"], sort)
            keyed = [d for d in keyed if self._key(self._sort_values(d, sort), sort) > after]
        start = body.get("from", 0)
        page = keyed[start:start + body.get("size", 10)]
        hits = []
        for doc in page:
            hit: dict[str, Any] = {"_index": self._resolve(name), "_id": self._doc_id(index, doc),
                                   "_score": None, "sort": self._sort_values(doc, sort)}
            source = body.get("_source", True)
            if source is not False:
                excludes = source.get("excludes", []) if isinstance(source, dict) else []
                hit["_source"] = {k: v for k, v in doc.items() if k not in excludes}
            hits.append(hit)
        return 200, {"took": 1, "timed_out": False,
                     "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
                     "hits": {"total": {"value": len(keyed), "relation": "eq"},
                              "max_score": None, "hits": hits}}

    @staticmethod
    def _doc_id(index: FakeIndex, doc: dict[str, Any]) -> str:
        return next(i for i, d in index.docs.items() if d is doc)

    @staticmethod
    def _order(spec: Any) -> tuple[str, str, str]:
        if isinstance(spec, str):
            return spec, "asc", "_last"
        (field_name, how), = spec.items()
        if isinstance(how, str):
            return field_name, how, "_last"
        return field_name, how.get("order", "asc"), how.get("missing", "_last")

    def _sort_values(self, doc: dict[str, Any], sort: list[Any]) -> list[Any]:
        values = []
        for spec in sort:
            field_name, _, _ = self._order(spec)
            if field_name == "_score":
                raise Unsupported("sorting by _score")
            value = doc.get(field_name)
            parsed = _parse_time(value)
            values.append(int(parsed.timestamp() * 1000) if isinstance(parsed, datetime)
                          else value)
        return values

    def _key(self, values: list[Any], sort: list[Any]) -> tuple[Any, ...]:
        """A tuple that orders as the sort clause asks (missing first or last)."""
        key = []
        for spec, value in zip(sort, values, strict=True):
            _, order, missing = self._order(spec)
            absent = value is None
            rank = 0 if absent == (missing == "_first") else 1
            if absent:
                key.append((rank, 0, ()))
            elif isinstance(value, str):
                encoded = value.encode()
                key.append((rank, 0, tuple(-b for b in encoded) + (1,) if order == "desc"
                            else tuple(encoded)))
            else:
                key.append((rank, -value if order == "desc" else value, ()))
        return tuple(key)

    def _match(self, doc: dict[str, Any], query: dict[str, Any]) -> bool:
        (kind, spec), = query.items()
        if kind == "match_all":
            return True
        if kind == "term":
            (field_name, value), = spec.items()
            value = value["value"] if isinstance(value, dict) else value
            return doc.get(field_name) == value
        if kind == "terms":
            (field_name, values), = spec.items()
            return doc.get(field_name) in values
        if kind == "exists":
            return doc.get(spec["field"]) is not None
        if kind == "range":
            (field_name, bounds), = spec.items()
            value = _parse_time(doc.get(field_name))
            if value is None:
                return False
            for op, bound in bounds.items():
                bound = _parse_time(bound)
                if not {"gt": value > bound, "gte": value >= bound, "lt": value < bound,
                        "lte": value <= bound}[op]:
                    return False
            return True
        if kind == "nested":
            path = spec["path"]
            return any(self._match({f"{path}.{k}": v for k, v in entry.items()}, spec["query"])
                       for entry in doc.get(path) or [])
        if kind == "bool":
            if not all(self._match(doc, q) for q in spec.get("filter", []) + spec.get(
                    "must", [])):
                return False
            if any(self._match(doc, q) for q in spec.get("must_not", [])):
                return False
            should = spec.get("should", [])
            needed = spec.get("minimum_should_match", 0 if spec.get("must") or spec.get(
                "filter") else 1)
            return not should or sum(self._match(doc, q) for q in should) >= needed
        raise Unsupported(f"query {kind!r} (recorded answers only)")
