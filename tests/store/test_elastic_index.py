"""The index design: template, mappings, analyzer, and the indexed form of an item."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dophu.text import fold_lower
from store.elastic.index import (
    ANALYSIS,
    ITEM_MAPPINGS,
    IndexNames,
    calendar_keys,
    from_source,
    items_template,
    small_index_bodies,
    to_document,
)
from store.sqlite import SQLiteStore
from tests.conftest import read_news
from tests.store.factory import make_item
from tests.store.test_store_contract import CONGRESS, LIBERATION, ROAD, UNTAGGED


def test_names_follow_the_prefix() -> None:
    names = IndexNames("dophu-test-1a2b3c4d")
    assert names.items == "dophu-test-1a2b3c4d-items"
    assert names.items_index == "dophu-test-1a2b3c4d-items-v1"
    assert names.items_pattern == "dophu-test-1a2b3c4d-items-*"
    assert IndexNames().items == "dophu-items" and IndexNames().items_index == "dophu-items-v1"
    assert IndexNames().small_indices == ("dophu-feedback", "dophu-source-state",
                                          "dophu-counters")


def test_template_is_strict_with_the_vietnamese_analyzer() -> None:
    template = items_template(IndexNames(), shards=3, replicas=1)
    assert template["index_patterns"] == ["dophu-items-*"]
    settings = template["template"]["settings"]
    assert (settings["number_of_shards"], settings["number_of_replicas"]) == (3, 1)
    mappings = template["template"]["mappings"]
    assert mappings["dynamic"] == "strict"
    analyzer = ANALYSIS["analyzer"]["dophu_vi"]
    assert analyzer["tokenizer"] == "standard"
    assert analyzer["filter"] == ["lowercase", "dophu_folding_keep"]
    assert ANALYSIS["filter"]["dophu_folding_keep"] == {"type": "asciifolding",
                                                        "preserve_original": True}
    for field in ("title", "text"):
        assert mappings["properties"][field] == {"type": "text", "analyzer": "dophu_vi",
                                                 "search_analyzer": "dophu_vi_search"}
    for field in ("id", "source", "unit", "kind", "duplicate_of", "content_hash", "day",
                  "week", "month"):
        assert mappings["properties"][field]["type"] == "keyword"
    for field in ("published_at", "fetched_at", "ts", "updated_at"):
        assert mappings["properties"][field]["type"] == "date"
    for path in ("themes", "anniversaries"):
        tag = mappings["properties"][path]
        assert tag["type"] == "nested"
        assert tag["properties"]["id"]["type"] == "keyword"
        assert tag["properties"]["score"]["type"] == "double"


def test_small_indices_are_strict_too() -> None:
    bodies = small_index_bodies(IndexNames("p"), replicas=0)
    assert set(bodies) == {"p-feedback", "p-source-state", "p-counters"}
    for body in bodies.values():
        assert body["mappings"]["dynamic"] == "strict"
        assert body["settings"] == {"number_of_shards": 1, "number_of_replicas": 0}


def test_every_document_field_is_mapped() -> None:
    for item in (CONGRESS, LIBERATION, ROAD, UNTAGGED):
        document = to_document(item)
        assert set(document) == set(ITEM_MAPPINGS["properties"])
        for tag in document["themes"] + document["anniversaries"]:
            assert set(tag) == set(ITEM_MAPPINGS["properties"]["themes"]["properties"])


def test_word_separators_match_the_query_grammar() -> None:
    # the char filter's Java pattern keeps exactly the characters store/query.py makes
    # words of (letters and digits), so "TP.HCM" is "tp hcm" on both sides
    import re

    assert ANALYSIS["char_filter"]["dophu_word_separators"]["pattern"] == "[^\\p{L}\\p{N}]+"
    words = re.findall(r"[^\W_]+", fold_lower("TP.HCM, 1.000 người; can't_stop"))
    assert words == ["tp", "hcm", "1", "000", "nguoi", "can", "t", "stop"]


def test_document_round_trip_equals_the_embedded_store(tmp_path: Path) -> None:
    sqlite = SQLiteStore(tmp_path / "s.sqlite3")
    tricky = make_item(7, themes={"b": 0.5, "a": 0.5, "c": 0.9},
                       published_at="2025-04-27T16:59:59.123456+00:00")
    items = [CONGRESS, LIBERATION, ROAD, UNTAGGED, tricky]
    sqlite.upsert(items)
    for item in items:
        assert from_source(to_document(item)) == sqlite.get(item.id)


@pytest.fixture(scope="module")
def real_items() -> list:
    rows = read_news(1500)
    return [make_item(1000 + i, title=r["title"], text=r["summary"] or "",
                      published_at=r["seen_at"]) for i, r in enumerate(rows)]


def test_calendar_keys_equal_the_embedded_stores_on_real_news(tmp_path: Path,
                                                              real_items: list) -> None:
    sqlite = SQLiteStore(tmp_path / "s.sqlite3")
    sqlite.upsert(real_items)
    with sqlite3.connect(tmp_path / "s.sqlite3") as conn:
        stored = {row[0]: row[1:] for row in conn.execute(
            "SELECT id, day, week, month FROM items")}
    for item in real_items:
        keys = calendar_keys(item)
        assert (keys["day"], keys["week"], keys["month"]) == stored[item.id]
