"""The behaviour every Store backend must have (run against each backend by conftest)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from dophu.models import Feedback, SourceState
from dophu.text import fold_lower
from store.base import CoverageQuery, Filters, QueryError, SearchQuery, Store
from tests.conftest import read_news
from tests.store.factory import make_item

CONGRESS = make_item(1, title="Đại hội Đảng bộ phường Ninh Kiều nhiệm kỳ 2025 - 2030",
                     text="Đại hội đã bầu Ban Chấp hành Đảng bộ phường. Hoà bình, thuỷ lợi.",
                     themes={"dai-hoi-dang": 0.93, "niem-tin-moi": 0.55},
                     published_at="2025-04-27T23:30:00+07:00")
LIBERATION = make_item(2, title="Lễ kỷ niệm 50 năm Ngày giải phóng miền Nam",
                       text="Thành phố long trọng tổ chức lễ kỷ niệm 30/4/1975 - 30/4/2025.",
                       anniversaries={"giai-phong-mien-nam-50": 0.97},
                       themes={"niem-tin-moi": 0.81}, source="canthotv",
                       unit="dai-ptth-can-tho", kind="broadcaster",
                       published_at="2025-04-30T07:00:00+07:00")
ROAD = make_item(3, title="Giải phóng mặt bằng dự án cầu Trần Hoàng Na",
                 text="Quận Ninh Kiều đẩy nhanh bồi thường, giải phóng mặt bằng.",
                 relevant=False, source="ninhkieu-portal", unit="quan-ninh-kieu",
                 kind="portal", published_at="2025-04-28T00:30:00+07:00")
UNTAGGED = make_item(4, title="Thời tiết Cần Thơ hôm nay", text="Trời nắng, có mưa rào.",
                     published_at=None)


@pytest.fixture
def filled(store: Store) -> Store:
    store.upsert([CONGRESS, LIBERATION, ROAD, UNTAGGED])
    return store


def ids(result) -> list[str]:
    return [hit.item.id for hit in result.items]


# ------------------------------------------------------------------ writes


def test_upsert_counts_new_updated_unchanged(store: Store) -> None:
    first = store.upsert([CONGRESS, LIBERATION])
    assert (first.new, first.updated, first.unchanged) == (2, 0, 0)
    again = store.upsert([CONGRESS, LIBERATION])
    assert (again.new, again.updated, again.unchanged) == (0, 0, 2)
    changed = CONGRESS.model_copy(update={"title": "Đại hội Đảng bộ phường (cập nhật)"})
    third = store.upsert([changed])
    assert (third.new, third.updated, third.unchanged) == (0, 1, 0)
    assert store.count() == 2
    assert store.get(CONGRESS.id).title == "Đại hội Đảng bộ phường (cập nhật)"
    assert store.search(SearchQuery(text="cap nhat")).total == 1


def test_same_id_twice_in_one_batch_keeps_the_last(store: Store) -> None:
    later = CONGRESS.model_copy(update={"text": "Bản sửa."})
    result = store.upsert([CONGRESS, later])
    assert store.count() == 1 and result.new == 1
    assert store.get(CONGRESS.id).text == "Bản sửa."


def test_get_round_trips_every_field(filled: Store) -> None:
    got = filled.get(CONGRESS.id)
    assert got is not None
    assert got.model_dump() == CONGRESS.model_dump()
    assert got.published_at.utcoffset() == timedelta(hours=7)
    assert filled.get("no-such-id") is None
    untagged = filled.get(UNTAGGED.id)
    assert untagged.relevant is None and untagged.published_at is None


def test_retag_replaces_tags(filled: Store) -> None:
    retagged = CONGRESS.model_copy(update={"themes": [], "relevant": False})
    filled.upsert([retagged])
    assert filled.get(CONGRESS.id).themes == []
    assert filled.search(SearchQuery(themes=["dai-hoi-dang"])).total == 0


def test_text_is_nfc_and_tone_marks_are_consistent(filled: Store) -> None:
    text = filled.get(CONGRESS.id).text
    assert "Hòa bình, thủy lợi" in text
    assert filled.search(SearchQuery(text="hoà bình")).total == 1


# ------------------------------------------------------------------ search


@pytest.mark.parametrize("query", ["dai hoi dang", "Đại hội Đảng", "đảng", "DANG BO", "Đảng"])
def test_search_with_or_without_diacritics(filled: Store, query: str) -> None:
    assert ids(filled.search(SearchQuery(text=query))) == [CONGRESS.id]


def test_phrase_keeps_word_order(filled: Store) -> None:
    assert ids(filled.search(SearchQuery(text='"dang bo phuong"'))) == [CONGRESS.id]
    assert filled.search(SearchQuery(text='"phuong bo dang"')).total == 0


def test_exclusion_or_and_prefix(filled: Store) -> None:
    assert filled.search(SearchQuery(text="giai phong -mat")).total == 1
    assert ids(filled.search(SearchQuery(text="giai phong -mat"))) == [LIBERATION.id]
    either = filled.search(SearchQuery(text="ninh OR mien"))
    assert set(ids(either)) == {CONGRESS.id, ROAD.id, LIBERATION.id}
    assert ids(filled.search(SearchQuery(text="ninh OR mien le"))) == [LIBERATION.id]
    assert filled.search(SearchQuery(text="thoi tie*")).total == 1


@pytest.mark.parametrize("query", [
    '"unbalanced quote', 'dang"', '"""', "NEAR(dai hoi)", "dai AND OR NOT", "title:dang",
    "dang^2", "(((", "*", "-", "' OR 1=1 --", "dai hoi; DROP TABLE items;", "{dang}",
    "\x00dang", "đ", "🙂 đảng",
])
def test_hostile_queries_give_a_sane_result(filled: Store, query: str) -> None:
    result = filled.search(SearchQuery(text=query))
    assert result.total >= 0
    assert filled.count() == 4


def test_too_long_or_too_many_words_is_a_clear_error(filled: Store) -> None:
    with pytest.raises(QueryError, match="too long"):
        filled.search(SearchQuery(text="đảng " * 2048))
    with pytest.raises(QueryError, match="words"):
        filled.search(SearchQuery(text=" ".join(f"w{i}" for i in range(40))))
    with pytest.raises(QueryError, match="only exclude"):
        filled.search(SearchQuery(text="-dang"))


def test_filters(filled: Store) -> None:
    def found(**kwargs) -> set[str]:
        return set(ids(filled.search(SearchQuery(size=50, **kwargs))))

    assert found(themes=["dai-hoi-dang"]) == {CONGRESS.id}
    assert found(themes=["niem-tin-moi"]) == {CONGRESS.id, LIBERATION.id}
    assert found(themes=["niem-tin-moi"], min_score=0.8) == {LIBERATION.id}
    assert found(anniversaries=["giai-phong-mien-nam-50"]) == {LIBERATION.id}
    assert found(sources=["canthotv"]) == {LIBERATION.id}
    assert found(units=["quan-ninh-kieu", "dai-ptth-can-tho"]) == {ROAD.id, LIBERATION.id}
    assert found(kinds=["portal"]) == {ROAD.id}
    assert found(relevant=True) == {CONGRESS.id, LIBERATION.id}
    assert found(relevant=False) == {ROAD.id}
    # local calendar days: 23:30 on the 27th (+07:00) is the 27th, not the 28th (UTC 16:30)
    assert found(date_from=date(2025, 4, 27), date_to=date(2025, 4, 27)) == {CONGRESS.id}
    assert found(date_from=date(2025, 4, 28), date_to=date(2025, 4, 30)) == {ROAD.id,
                                                                            LIBERATION.id}
    # an item without a publication date is dated by when it was fetched
    assert found(date_from=date(2025, 5, 1)) == {UNTAGGED.id}
    assert found(text="dang", date_to=date(2025, 4, 26)) == set()
    with pytest.raises(QueryError):
        filled.search(SearchQuery(date_from=date(2025, 5, 1), date_to=date(2025, 4, 1)))


def test_facets_count_the_matching_items(filled: Store) -> None:
    facets = filled.search(SearchQuery()).facets
    assert facets["theme"] == {"niem-tin-moi": 2, "dai-hoi-dang": 1}
    assert facets["anniversary"] == {"giai-phong-mien-nam-50": 1}
    assert facets["source"] == {"baocantho": 2, "canthotv": 1, "ninhkieu-portal": 1}
    assert facets["unit"]["bao-can-tho"] == 2
    assert facets["kind"] == {"newspaper": 2, "broadcaster": 1, "portal": 1}
    narrowed = filled.search(SearchQuery(text="ninh kieu")).facets
    assert narrowed["source"] == {"baocantho": 1, "ninhkieu-portal": 1}


def test_sort_and_paging(filled: Store) -> None:
    newest = filled.search(SearchQuery(sort="date", size=2))
    assert newest.total == 4 and ids(newest) == [UNTAGGED.id, LIBERATION.id]
    page2 = filled.search(SearchQuery(sort="date", size=2, page=2))
    assert page2.total == 4
    assert set(ids(page2)).isdisjoint(ids(newest))
    oldest = filled.search(SearchQuery(sort="date_asc", size=1))
    assert ids(oldest) == [CONGRESS.id]
    beyond = filled.search(SearchQuery(size=10, page=50))
    assert beyond.total == 4 and beyond.items == []


def test_highlights_mark_the_original_words_and_escape_html(store: Store) -> None:
    hostile = make_item(9, title="<script>alert(1)</script> Đảng bộ",
                        text="Chào mừng Đại hội Đảng bộ & nhân dân")
    store.upsert([hostile])
    hit = store.search(SearchQuery(text="dang bo")).items[0]
    assert "<script>" not in hit.highlights["title"]
    assert "&lt;script&gt;" in hit.highlights["title"]
    assert "<mark>Đảng</mark> <mark>bộ</mark>" in hit.highlights["text"]
    assert "&amp;" in hit.highlights["text"]


def test_relevance_prefers_title_matches(store: Store) -> None:
    in_title = make_item(20, title="Quốc khánh 2/9 tại Cần Thơ", text="Nhiều hoạt động.")
    in_text = make_item(21, title="Tin tổng hợp", text="Nhiều tin, có tin về quốc khánh.")
    store.upsert([in_text, in_title])
    assert ids(store.search(SearchQuery(text="quoc khanh")))[0] == in_title.id


# ------------------------------------------------------------------ coverage


def test_coverage_by_theme_and_unit_per_week(filled: Store) -> None:
    rows = filled.coverage(CoverageQuery(group_by=["theme", "unit"], interval="week"))
    got = {(r.period, r.keys["theme"], r.keys["unit"]): r.count for r in rows}
    assert got == {
        ("2025-W17", "dai-hoi-dang", "bao-can-tho"): 1,   # Sunday 23:30 local: week 17
        ("2025-W17", "niem-tin-moi", "bao-can-tho"): 1,
        ("2025-W18", "niem-tin-moi", "dai-ptth-can-tho"): 1,
    }


def test_coverage_counts_all_items_by_day_month_and_kind(filled: Store) -> None:
    by_day = {r.period: r.count for r in filled.coverage(CoverageQuery(interval="day"))}
    assert by_day == {"2025-04-27": 1, "2025-04-28": 1, "2025-04-30": 1, "2025-05-01": 1}
    by_month = {r.period: r.count for r in filled.coverage(CoverageQuery(interval="month"))}
    assert by_month == {"2025-04": 3, "2025-05": 1}   # untagged item dated by fetch time
    by_kind = {r.keys["kind"]: r.count for r in filled.coverage(
        CoverageQuery(group_by=["kind"], date_from=date(2025, 4, 28)))}
    assert by_kind == {"broadcaster": 1, "portal": 1, "newspaper": 1}
    anniv = filled.coverage(CoverageQuery(group_by=["anniversary"], relevant=True))
    assert [(r.keys, r.count) for r in anniv] == [({"anniversary": "giai-phong-mien-nam-50"}, 1)]
    total = filled.coverage(CoverageQuery())
    assert [r.count for r in total] == [4]


# ------------------------------------------------------------------ export, delete, dedup


def test_iter_items_in_id_order_and_resumable(filled: Store) -> None:
    all_ids = [i.id for i in filled.iter_items(batch_size=3)]
    assert all_ids == sorted(all_ids) and len(all_ids) == 4
    rest = [i.id for i in filled.iter_items(after_id=all_ids[1], batch_size=2)]
    assert rest == all_ids[2:]


def test_delete_source(filled: Store) -> None:
    assert filled.delete_source("baocantho") == 2
    assert filled.count() == 2
    assert filled.search(SearchQuery(text="dang")).total == 0
    assert filled.search(SearchQuery(themes=["dai-hoi-dang"])).total == 0


def test_content_hash_and_duplicates(filled: Store) -> None:
    copy = make_item(30, title=CONGRESS.title, text=CONGRESS.text, source="ninhkieu-portal",
                     unit="quan-ninh-kieu", kind="portal", duplicate_of=CONGRESS.id)
    filled.upsert([copy])
    assert filled.find_by_content_hash(CONGRESS.content_hash) == [CONGRESS.id, copy.id]
    assert filled.duplicates_of(CONGRESS.id) == [copy.id]
    assert filled.known_ids([CONGRESS.id, "nope"]) == {CONGRESS.id}
    # a republished story still counts for the unit that republished it
    units = {r.keys["unit"]: r.count for r in filled.coverage(CoverageQuery(group_by=["unit"]))}
    assert units["quan-ninh-kieu"] == 2
    assert filled.count(Filters(include_duplicates=False)) == 4


# ------------------------------------------------------------------ feedback and state


def test_feedback_is_kept_with_who_and_when(filled: Store) -> None:
    at = datetime.fromisoformat("2025-05-02T09:00:00+07:00")
    saved = filled.add_feedback(Feedback(item_id=CONGRESS.id, label_kind="theme",
                                         label="niem-tin-moi", action="reject", user="lan",
                                         at=at))
    assert saved.id is not None
    filled.add_feedback(Feedback(item_id=ROAD.id, label_kind="theme", label="phat-trien-kt-xh",
                                 action="add", user="minh", at=at + timedelta(days=7)))
    filled.add_feedback(Feedback(item_id=CONGRESS.id, label_kind="anniversary",
                                 label="quoc-khanh-80", action="dismiss", user="lan",
                                 at=at + timedelta(hours=1), note="không áp dụng"))
    assert [f.user for f in filled.list_feedback()] == ["lan", "lan", "minh"]
    assert [(f.action, f.label_kind, f.note) for f in filled.list_feedback(
        item_id=CONGRESS.id)] == [("reject", "theme", ""),
                                  ("dismiss", "anniversary", "không áp dụng")]
    assert [f.user for f in filled.list_feedback(since=at + timedelta(days=1))] == ["minh"]
    assert [f.user for f in filled.list_feedback(until=at + timedelta(days=1))] == ["lan", "lan"]


def test_source_state_round_trip(store: Store) -> None:
    assert store.get_source_state("baocantho") is None
    state = SourceState(source_id="baocantho", discovered_feeds=["https://x.vn/rss"],
                        consecutive_failures=2, last_error="HTTP 500",
                        last_attempt=datetime.fromisoformat("2025-05-01T10:00:00+07:00"))
    store.put_source_state(state)
    store.put_source_state(SourceState(source_id="canthotv"))
    got = store.get_source_state("baocantho")
    assert got == state and got.failing
    assert sorted(store.list_source_states()) == ["baocantho", "canthotv"]


# ------------------------------------------------------------------ real text


@pytest.fixture(scope="module")
def real_rows() -> list[dict]:
    return read_news(3000)


def test_accent_insensitive_search_on_real_news(store: Store, real_rows: list[dict]) -> None:
    items = [make_item(100 + i, title=r["title"], text=r["summary"] or "",
                       published_at=r["seen_at"]) for i, r in enumerate(real_rows)]
    store.upsert(items)
    assert store.count() == len(items)
    for plain, marked in (("quoc khanh", "Quốc khánh"), ("dai hoi dang bo", "Đại hội Đảng bộ"),
                          ("tong bi thu", "Tổng Bí thư")):
        with_marks = store.search(SearchQuery(text=marked, size=0, facets=False)).total
        without = store.search(SearchQuery(text=plain, size=0, facets=False)).total
        assert with_marks == without > 0
    # a phrase search returns exactly the items whose folded text holds the phrase
    phrase = "dai hoi dang bo"
    expected = {it.id for it in items
                if phrase in " ".join(_words(fold_lower(it.title + " \n " + it.text)))
                or phrase in " ".join(_words(fold_lower(it.title)))
                or phrase in " ".join(_words(fold_lower(it.text)))}
    got = store.search(SearchQuery(text=f'"{phrase}"', size=200, facets=False))
    assert {h.item.id for h in got.items} == expected and got.total == len(expected)
    assert all("<mark>" in (h.highlights.get("title", "") + h.highlights.get("text", ""))
               for h in got.items)


def _words(text: str) -> list[str]:
    import re

    return re.findall(r"[^\W_]+", text)
