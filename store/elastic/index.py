"""The Elasticsearch index design: names, analysis, mappings, and item ⇄ document.

One dated items index (``<prefix>-items-v1``) sits behind the alias every read and
write uses (``<prefix>-items``), so a new mapping is a new dated index filled by a
reindex and an atomic alias swap. Feedback, crawl state and the feedback id counter
live in small indices of their own. Mappings are ``dynamic: strict``: a field that
is not declared here is an error, never a silently guessed type.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dophu.dates import LOCAL_TZ, iso_week_key, month_key
from dophu.models import Item, Tag

INDEX_VERSION = 1
DEFAULT_PREFIX = "dophu"

# Tags are nested documents: "theme X with score >= t" must hold for one tag, not for
# any id and any score of the same item, and per-tag aggregations count items exactly
# (reverse_nested). See docs/scaling.md.
TAG_PATHS = {"theme": "themes", "anniversary": "anniversaries"}
KEYWORD_DIMENSIONS = ("unit", "source", "kind")


@dataclass(frozen=True)
class IndexNames:
    """Every name the store uses, derived from one prefix (tests use a unique one)."""

    prefix: str = DEFAULT_PREFIX

    @property
    def items(self) -> str:
        """The alias: reads and writes go through it, never to a dated index."""
        return f"{self.prefix}-items"

    @property
    def items_index(self) -> str:
        return f"{self.prefix}-items-v{INDEX_VERSION}"

    @property
    def items_template(self) -> str:
        return f"{self.prefix}-items"

    @property
    def items_pattern(self) -> str:
        return f"{self.prefix}-items-*"

    @property
    def feedback(self) -> str:
        return f"{self.prefix}-feedback"

    @property
    def source_state(self) -> str:
        return f"{self.prefix}-source-state"

    @property
    def counters(self) -> str:
        return f"{self.prefix}-counters"

    @property
    def small_indices(self) -> tuple[str, ...]:
        return (self.feedback, self.source_state, self.counters)


# ------------------------------------------------------------------ analysis

# Only letters and digits make words, as in SQLite's unicode61 tokenizer and in
# store/query.py; without this the standard tokenizer keeps "TP.HCM", "1.000" and
# "can't" whole, and "tp hcm" would not find them.
WORD_SEPARATORS = {"type": "pattern_replace", "pattern": "[^\\p{L}\\p{N}]+", "replacement": " "}

ANALYSIS: dict[str, Any] = {
    "char_filter": {"dophu_word_separators": WORD_SEPARATORS},
    "filter": {
        # "Đảng" is indexed as "đảng" and "dang" at one position, so phrases keep order
        "dophu_folding_keep": {"type": "asciifolding", "preserve_original": True},
    },
    "analyzer": {
        "dophu_vi": {
            "type": "custom", "char_filter": ["dophu_word_separators"],
            "tokenizer": "standard", "filter": ["lowercase", "dophu_folding_keep"],
        },
        # Queries arrive folded (store/query.py), so searching folds only.
        "dophu_vi_search": {
            "type": "custom", "char_filter": ["dophu_word_separators"],
            "tokenizer": "standard", "filter": ["lowercase", "asciifolding"],
        },
    },
}


def _tag_mapping() -> dict[str, Any]:
    return {
        "type": "nested",
        "dynamic": "strict",
        "properties": {
            "id": {"type": "keyword"},
            "score": {"type": "double"},       # double: ">= 0.8" compares as SQLite does
            "evidence": {"type": "text", "index": False},
        },
    }


_TEXT = {"type": "text", "analyzer": "dophu_vi", "search_analyzer": "dophu_vi_search"}
_STORED_ONLY_KEYWORD = {"type": "keyword", "index": False, "doc_values": False}

ITEM_MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "id": {"type": "keyword"},               # also the _id; a field so it can sort
        "url": {"type": "keyword", "ignore_above": 4096},
        "source": {"type": "keyword"},
        "unit": {"type": "keyword"},
        "kind": {"type": "keyword"},
        "title": _TEXT,
        "text": _TEXT,
        "published_at": {"type": "date"},        # _source keeps the offset (+07:00)
        "fetched_at": {"type": "date"},
        "ts": {"type": "date"},                  # published_at, else fetched_at
        "day": {"type": "keyword"},              # local (Asia/Ho_Chi_Minh) calendar keys of ts
        "week": {"type": "keyword"},
        "month": {"type": "keyword"},
        "relevant": {"type": "boolean"},
        "themes": _tag_mapping(),
        "anniversaries": _tag_mapping(),
        "duplicate_of": {"type": "keyword"},
        "content_hash": {"type": "keyword"},
        "meta": {"type": "object", "enabled": False},
        "row_hash": _STORED_ONLY_KEYWORD,        # the whole item: unchanged or not
        "body_hash": _STORED_ONLY_KEYWORD,       # all but tags: a tag-only change is an update
        "updated_at": {"type": "date"},
    },
}

FEEDBACK_MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "id": {"type": "long"},
        "item_id": {"type": "keyword"},
        "label_kind": {"type": "keyword"},
        "label": {"type": "keyword"},
        "action": {"type": "keyword"},
        "user": {"type": "keyword"},
        "at": {"type": "date"},
        "note": {"type": "text", "index": False},
    },
}

SOURCE_STATE_MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "source_id": {"type": "keyword"},
        "state": {"type": "object", "enabled": False},   # SourceState allows extra fields
        "updated_at": {"type": "date"},
    },
}

COUNTER_MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {"value": {"type": "long"}},
}


def items_template(names: IndexNames, *, shards: int = 1, replicas: int = 1,
                   refresh_interval: str = "1s") -> dict[str, Any]:
    """The composable index template for every dated items index of this prefix."""
    return {
        "index_patterns": [names.items_pattern],
        "priority": 200,
        "template": {
            "settings": {
                "number_of_shards": shards,
                "number_of_replicas": replicas,
                "refresh_interval": refresh_interval,
                "analysis": ANALYSIS,
            },
            "mappings": ITEM_MAPPINGS,
        },
        "_meta": {"description": "dophu items (store/elastic/index.py)",
                  "index_version": INDEX_VERSION},
    }


def small_index_bodies(names: IndexNames, *, replicas: int = 1) -> dict[str, dict[str, Any]]:
    """Settings and mappings of the one-shard indices for feedback, state and counters."""
    settings = {"number_of_shards": 1, "number_of_replicas": replicas}
    return {
        names.feedback: {"settings": settings, "mappings": FEEDBACK_MAPPINGS},
        names.source_state: {"settings": settings, "mappings": SOURCE_STATE_MAPPINGS},
        names.counters: {"settings": settings, "mappings": COUNTER_MAPPINGS},
    }


# ------------------------------------------------------------------ item ⇄ document


def _digest(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha1(text.encode()).hexdigest()


def row_hash(item: Item) -> str:
    """Same definition as the embedded store: everything but the fetch time."""
    return _digest(item.model_dump(mode="json", exclude={"fetched_at"}))


def body_hash(item: Item) -> str:
    """Everything but the fetch time and the tags: equal means a tag-only change."""
    return _digest(item.model_dump(mode="json",
                                   exclude={"fetched_at", "themes", "anniversaries", "relevant"}))


def canonical_tags(tags: list[Tag]) -> list[Tag]:
    """One tag per id (the last given wins), best score first: what SQLite gives back."""
    unique: dict[str, Tag] = {}
    for tag in tags:
        unique[tag.id] = tag
    return sorted(unique.values(), key=lambda t: (-t.score, t.id))


def _tag_docs(tags: list[Tag]) -> list[dict[str, Any]]:
    return [{"id": t.id, "score": t.score, "evidence": list(t.evidence)}
            for t in canonical_tags(tags)]


def tag_fields(item: Item) -> dict[str, Any]:
    """The part of a document a retagging changes (sent as a partial update)."""
    return {
        "relevant": item.relevant,
        "themes": _tag_docs(item.themes),
        "anniversaries": _tag_docs(item.anniversaries),
        "row_hash": row_hash(item),
    }


def calendar_keys(item: Item) -> dict[str, Any]:
    """``ts`` and its local day/week/month, exactly as the embedded store computes them."""
    moment = item.published_at or item.fetched_at
    if moment is None:
        return {"ts": None, "day": None, "week": None, "month": None}
    local_day = moment.astimezone(LOCAL_TZ).date()
    return {"ts": moment.isoformat(), "day": local_day.isoformat(),
            "week": iso_week_key(local_day), "month": month_key(local_day)}


def to_document(item: Item, *, now: datetime | None = None) -> dict[str, Any]:
    """The indexed form of an item (its ``_source``)."""
    return {
        "id": item.id,
        "url": item.url,
        "source": item.source,
        "unit": item.unit,
        "kind": item.kind,
        "title": item.title,
        "text": item.text,
        "published_at": item.published_at.isoformat() if item.published_at else None,
        "fetched_at": item.fetched_at.isoformat() if item.fetched_at else None,
        **calendar_keys(item),
        "duplicate_of": item.duplicate_of,
        "content_hash": item.content_hash,
        # the embedded store keeps meta as JSON text; the same round trip here
        "meta": json.loads(json.dumps(item.meta, ensure_ascii=False, sort_keys=True,
                                      default=str)),
        **tag_fields(item),
        "body_hash": body_hash(item),
        "updated_at": (now or datetime.now(UTC)).isoformat(),
    }


def _tags_from(docs: list[dict[str, Any]] | None) -> list[Tag]:
    return [Tag.model_construct(id=d["id"], score=float(d["score"]),
                                evidence=list(d.get("evidence") or []))
            for d in docs or []]


def _datetime(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def from_source(source: dict[str, Any]) -> Item:
    """An Item from a document's ``_source`` (trusted: it was validated when stored)."""
    return Item.model_construct(
        id=source["id"], url=source.get("url"), source=source["source"],
        unit=source["unit"], kind=source["kind"], title=source.get("title") or "",
        text=source.get("text") or "",
        published_at=_datetime(source.get("published_at")),
        fetched_at=_datetime(source.get("fetched_at")),
        relevant=source.get("relevant"),
        themes=_tags_from(source.get("themes")),
        anniversaries=_tags_from(source.get("anniversaries")),
        duplicate_of=source.get("duplicate_of"), content_hash=source.get("content_hash"),
        meta=source.get("meta") or {},
    )
