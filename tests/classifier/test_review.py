"""The review queue: which (item, label) pairs it lists, in what order, and whether they are
the ones worth a person's time (the tagger's mistakes, on the real held-out items)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from classifier.corpus import load_corpus
from classifier.evaluation import review_queue_yield
from classifier.review import (
    build_queue,
    default_period,
    log_odds,
    uncertain_labels,
)
from classifier.tagger import Tagger
from dophu.config import Plan
from dophu.models import Feedback, Item, Tag, item_id_for_url
from store import open_store
from store.base import Filters


def _item(slug: str, title: str, text: str, published: str, *, unit: str = "bao-can-tho",
          themes: list[Tag] | None = None, anniversaries: list[Tag] | None = None,
          duplicate_of: str | None = None) -> Item:
    url = f"https://example.vn/{slug}.html"
    return Item(id=item_id_for_url(url), url=url, source="baocantho", unit=unit,
                kind="newspaper", title=title, text=text, published_at=published,
                relevant=bool(themes or anniversaries), themes=themes or [],
                anniversaries=anniversaries or [], duplicate_of=duplicate_of)


@pytest.fixture(scope="module")
def heldout_real(plan: Plan) -> list[Item]:
    """The real items of the held-out split, as stored items (gold labels in meta)."""
    return [Item(id=i.id, source="baocantho", unit="bao-can-tho", kind="newspaper",
                 title=i.title, text=i.text, published_at=i.published_at,
                 meta={"gold": sorted(i.labels)})
            for i in load_corpus(plan).test if i.form == "real"]


def test_pairs_come_nearest_first_and_within_the_distance(shipped: Tagger,
                                                           heldout_real: list[Item]) -> None:
    items = heldout_real[:600]
    found = uncertain_labels(shipped, items, max_distance=1.0)
    assert len(found) > 20
    distances = [c.distance for c in found]
    assert distances == sorted(distances) and max(distances) <= 1.0
    for c in found:
        assert c.tagged == (c.score >= c.threshold)
        assert c.distance == pytest.approx(
            abs(float(log_odds(c.score) - log_odds(c.threshold))), abs=2e-3)
        assert c.label_kind == ("theme" if c.label in shipped.plan.label_ids("theme")
                                else "anniversary")
        assert not c.stored                          # these items were stored untagged
    # a pair the tagger gives is listed with the same evidence the tag would carry
    given = next(c for c in found if c.tagged)
    tag = next(t for t in shipped.tag(given.item).themes + shipped.tag(given.item).anniversaries
               if t.id == given.label)
    assert given.evidence == tag.evidence
    # a limit keeps the nearest, with the same scores and evidence
    assert uncertain_labels(shipped, items, max_distance=1.0, limit=5) == found[:5]
    # a wider band lists more; one label only lists that label
    assert len(uncertain_labels(shipped, items, max_distance=2.0)) > len(found)
    only = uncertain_labels(shipped, items, max_distance=1.0, labels=["quoc-khanh-80"])
    assert only and {c.label for c in only} == {"quoc-khanh-80"}
    assert [c.item.id for c in only] == [c.item.id for c in found if c.label == "quoc-khanh-80"]
    # answered pairs are left out, the others stay
    answered = {(found[0].item.id, found[0].label)}
    rest = uncertain_labels(shipped, items, max_distance=1.0, answered=answered)
    assert len(rest) == len(found) - 1 and (found[0].item.id, found[0].label) not in {
        (c.item.id, c.label) for c in rest}


def test_the_queue_holds_the_taggers_mistakes(shipped: Tagger,
                                              heldout_real: list[Item]) -> None:
    """Measured on the 2,927 real held-out items (no model saw them): the pairs within
    distance 1.0 are under 1% of all (item, label) pairs but hold a large share of the
    wrong decisions, and about two in five of them are wrong."""
    labels = shipped.labels.ids
    decisions = shipped.decide(heldout_real)
    gold = np.array([[label in item.meta["gold"] for label in labels] for item in heldout_real])
    wrong = (decisions.combined >= decisions.cut) != gold
    found = uncertain_labels(shipped, heldout_real, max_distance=1.0)
    column = {label: k for k, label in enumerate(labels)}
    row = {item.id: k for k, item in enumerate(heldout_real)}
    in_queue = np.array([wrong[row[c.item.id], column[c.label]] for c in found])
    assert len(found) < 0.01 * wrong.size
    assert in_queue.mean() >= 0.35                       # measured: 100 of 246 (41%)
    assert in_queue.sum() >= 0.30 * wrong.sum()          # measured: 100 of 261 (38%)
    assert wrong.mean() < 0.01                           # measured: 261 of 46,832 (0.6%)
    # dophu evaluate reports the same count (its "review_queue" block)
    assert review_queue_yield(decisions.combined, decisions.cut, gold) == {
        "max_distance": 1.0, "pairs": wrong.size, "wrong": int(wrong.sum()),
        "queued": len(found), "queued_items": len({c.item.id for c in found}),
        "queued_wrong": int(in_queue.sum())}


def test_bad_arguments_are_named(shipped: Tagger, heldout_real: list[Item]) -> None:
    with pytest.raises(ValueError, match="unknown label id"):
        uncertain_labels(shipped, heldout_real[:5], labels=["khong-co"])
    with pytest.raises(ValueError, match="max_distance"):
        uncertain_labels(shipped, heldout_real[:5], max_distance=-1)
    with pytest.raises(ValueError, match="max_distance"):
        uncertain_labels(shipped, heldout_real[:5], max_distance=float("nan"))


def test_default_period_is_the_last_30_days() -> None:
    today = date(2026, 11, 29)
    assert default_period(None, None, today) == (date(2026, 10, 31), today)
    assert default_period(None, date(2025, 9, 2), today) == (date(2025, 8, 4), date(2025, 9, 2))
    assert default_period(date(2025, 8, 1), None, today) == (date(2025, 8, 1), None)


def test_build_queue_reads_the_period_newest_first_and_skips_answered(
        shipped: Tagger, tmp_path: Path) -> None:
    a80 = "Triển lãm thành tựu đất nước {n}: doanh nghiệp mang sản phẩm đến gian hàng"
    text = ("Trong không khí chào mừng 80 năm Quốc khánh, công ty trưng bày sản phẩm tại triển "
            "lãm “80 năm hành trình Độc lập - Tự do - Hạnh phúc”.")
    items = [_item(f"a80-{n}", a80.format(n=n), text, f"2025-09-0{n}T08:00:00+07:00")
             for n in range(1, 6)]
    items.append(_item("a80-ward", a80.format(n=9), text, "2025-09-03T09:00:00+07:00",
                       unit="phuong-ninh-kieu"))
    items.append(_item("a80-copy", a80.format(n=1), text, "2025-09-01T09:00:00+07:00",
                       duplicate_of=items[0].id))
    items.append(_item("a80-old", a80.format(n=8), text, "2025-07-01T08:00:00+07:00"))
    tagged = shipped.tag_items(items)
    store = open_store(tmp_path / "data")
    try:
        store.upsert(tagged)
        september = Filters(date_from=date(2025, 9, 1), date_to=date(2025, 9, 30))
        queue = build_queue(store, shipped, september, max_distance=10.0, limit=500)
        assert queue.items_in_period == 6                # the July item and the copy are out
        assert queue.items_scored == 6 and queue.model == shipped.model_version
        listed = {c.item.id for c in queue.candidates}
        assert listed <= {i.id for i in items[:6]} and len(listed) == 6
        stored = {(i.id, t.id) for i in tagged for t in i.themes + i.anniversaries}
        assert all(c.stored == ((c.item.id, c.label) in stored) for c in queue.candidates)

        newest = build_queue(store, shipped, september, max_items=2, max_distance=10.0)
        assert newest.items_scored == 2
        assert {c.item.id for c in newest.candidates} == {items[4].id, items[3].id}

        ward = build_queue(store, shipped, Filters(date_from=date(2025, 9, 1),
                                                   units=["phuong-ninh-kieu"]), max_distance=10)
        assert {c.item.id for c in ward.candidates} == {items[5].id}

        first = queue.candidates[0]
        store.add_feedback(Feedback(item_id=first.item.id, label_kind=first.label_kind,
                                    label=first.label,
                                    action="reject" if first.stored else "dismiss",
                                    user="an", at="2025-09-10T08:00:00+07:00"))
        again = build_queue(store, shipped, september, max_distance=10.0, limit=500)
        assert len(again.candidates) == len(queue.candidates) - 1
        assert (first.item.id, first.label) not in {(c.item.id, c.label)
                                                    for c in again.candidates}
        assert len(build_queue(store, shipped, september, max_distance=10.0,
                               limit=3).candidates) == 3
        with pytest.raises(ValueError, match="after it ends"):
            build_queue(store, shipped, Filters(date_from=date(2025, 9, 2),
                                                date_to=date(2025, 9, 1)))
    finally:
        store.close()
