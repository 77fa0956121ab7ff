"""The SQLite store's shared search cache and its paged, faceted answers.

A search answered from the cache must never outlive a write: made through the same
store, through another store on the same file (another process's crawler), from
another thread. What a caller gets is its own copy.
"""

from __future__ import annotations

import threading
from pathlib import Path

from store.base import SearchQuery
from store.sqlite import SQLiteStore
from tests.store.factory import make_item


def _titles(store: SQLiteStore, query: SearchQuery) -> list[str]:
    return [hit.item.title for hit in store.search(query).items]


def test_a_write_through_the_same_store_is_seen_at_once(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite3")
    store.upsert([make_item(1, title="Bão số 3 đổ bộ")])
    query = SearchQuery(text="bao")
    assert store.search(query).total == 1
    store.upsert([make_item(2, title="Bão số 4 đổ bộ")])
    assert store.search(query).total == 2
    assert store.search(SearchQuery(sources=["baocantho"])).total == 2
    store.close()


def test_a_write_by_another_connection_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    reader, writer = SQLiteStore(path), SQLiteStore(path)
    writer.upsert([make_item(1, title="Bão số 3")])
    listing, text = SearchQuery(), SearchQuery(text="bao")
    assert (reader.search(listing).total, reader.search(text).total) == (1, 1)
    writer.upsert([make_item(2, title="Bão số 4", source="canthotv",
                             unit="dai-ptth-can-tho", kind="broadcaster")])
    assert (reader.search(listing).total, reader.search(text).total) == (2, 2)
    assert reader.search(listing).facets["source"] == {"baocantho": 1, "canthotv": 1}
    writer.delete_source("canthotv")
    assert (reader.search(listing).total, reader.search(text).total) == (1, 1)
    reader.close()
    writer.close()


def test_threads_share_answers_and_see_each_others_writes(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite3")
    store.upsert([make_item(1, title="Bão số 3")])
    query = SearchQuery(text="bao")
    seen: list[int] = []

    def in_thread(action) -> None:
        worker = threading.Thread(target=action)
        worker.start()
        worker.join()

    in_thread(lambda: seen.append(store.search(query).total))
    store.upsert([make_item(2, title="Bão số 4")])
    in_thread(lambda: seen.append(store.search(query).total))
    in_thread(lambda: store.upsert([make_item(3, title="Bão số 5")]))
    seen.append(store.search(query).total)
    assert seen == [1, 2, 3]
    store.close()


def test_a_caller_changing_its_answer_changes_nobody_elses(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite3")
    store.upsert([make_item(1, title="Bão số 3", themes={"niem-tin-moi": 0.9})])
    query = SearchQuery(text="bao")
    first = store.search(query)
    first.items[0].item.themes.clear()
    first.facets["source"]["baocantho"] = 99
    again = store.search(query)
    assert [t.id for t in again.items[0].item.themes] == ["niem-tin-moi"]
    assert again.facets["source"] == {"baocantho": 1}
    store.close()


def test_pages_of_a_broad_match_follow_the_order_asked(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite3")
    store.upsert([make_item(n, title=f"Bão tin {n:02d}" + (" bão bão" if n % 7 == 0 else ""),
                            published_at=f"2025-04-{n % 28 + 1:02d}T08:00:00+07:00")
                  for n in range(1, 46)])
    by_date = [t for page in (1, 2, 3)
               for t in _titles(store, SearchQuery(text="bao", sort="date", page=page,
                                                   size=20))]
    assert len(by_date) == 45
    everything = store.search(SearchQuery(text="bao", sort="date", size=200)).items
    assert by_date == [hit.item.title for hit in everything]
    days = [hit.item.published_at for hit in everything]
    assert days == sorted(days, reverse=True)
    ranked = store.search(SearchQuery(text="bao", size=5)).items
    assert all("bão bão" in hit.item.title for hit in ranked)   # the most matches first
    assert [h.score for h in ranked] == sorted([h.score for h in ranked], reverse=True)
    store.close()


def test_facets_of_a_filtered_listing_count_each_dimension(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite3")
    store.upsert([
        make_item(1, themes={"niem-tin-moi": 0.9}, anniversaries={"giai-phong-mien-nam-50": 0.8}),
        make_item(2, themes={"niem-tin-moi": 0.7, "ky-nguyen-moi": 0.6}),
        make_item(3, source="canthotv", unit="dai-ptth-can-tho", kind="broadcaster",
                  themes={"ky-nguyen-moi": 0.9}),
        make_item(4, published_at="2025-06-01T08:00:00+07:00", themes={"niem-tin-moi": 0.9}),
    ])
    result = store.search(SearchQuery(date_from="2025-04-01", date_to="2025-04-30"))
    assert result.total == 3
    assert result.facets["source"] == {"baocantho": 2, "canthotv": 1}
    assert list(result.facets["source"]) == ["baocantho", "canthotv"]
    assert result.facets["unit"] == {"bao-can-tho": 2, "dai-ptth-can-tho": 1}
    assert result.facets["kind"] == {"newspaper": 2, "broadcaster": 1}
    assert result.facets["theme"] == {"ky-nguyen-moi": 2, "niem-tin-moi": 2}
    assert result.facets["anniversary"] == {"giai-phong-mien-nam-50": 1}
    store.close()
