"""The labelled corpus: format checks naming the line, the fixed split, feedback, data hash."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from classifier.corpus import (
    TEST_PERCENT,
    data_hash,
    feedback_items,
    load_corpus,
    split_of,
)
from dophu.config import Plan
from dophu.models import Feedback, Item


def write(path: Path, lines: list) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)
                              for x in lines) + "\n", encoding="utf-8")
    return path


def test_bad_lines_are_reported_with_file_and_line(plan: Plan, tmp_path: Path) -> None:
    path = write(tmp_path / "gold.jsonl", [
        {"id": "a", "title": "Tin 1", "text": "", "themes": [], "anniversaries": []},
        "{not json",
        {"id": "b", "title": "Tin 2", "themes": ["khong-co"], "anniversaries": []},
        {"title": "Tin 3", "themes": []},
        {"id": "a", "title": "Tin 4"},
        {"id": "c", "title": "Tin 5", "published_at": "hôm qua"},
    ])
    corpus = load_corpus(plan, [path])
    assert [i.id for i in corpus.items] == ["a"]
    messages = [str(e) for e in corpus.errors]
    assert messages[0].startswith("gold.jsonl:2: not valid JSON")
    assert messages[1] == ("gold.jsonl:3: themes: unknown id(s) khong-co (not in the plan)")
    assert messages[2].startswith("gold.jsonl:4: id: required")
    assert messages[3].startswith("gold.jsonl:5: duplicate id 'a'")
    assert messages[4].startswith("gold.jsonl:6: published_at: not a date")


def test_split_is_stable_and_about_a_fifth() -> None:
    ids = [f"item-{n}" for n in range(5000)]
    first = [split_of(i) for i in ids]
    assert first == [split_of(i) for i in ids]
    share = first.count("test") / len(ids)
    assert abs(share - TEST_PERCENT / 100) < 0.02


def test_the_shipped_corpus_loads(plan: Plan) -> None:
    corpus = load_corpus(plan)
    assert len(corpus.items) > 500
    assert corpus.test and corpus.train
    assert not {i.id for i in corpus.test} & {i.id for i in corpus.train}


def test_feedback_becomes_partially_labelled_items(plan: Plan) -> None:
    item = Item(id="x1", source="s", unit="bao-can-tho", kind="newspaper",
                title="Đại hội Đảng bộ phường", text="Nội dung")
    at = datetime(2025, 5, 1, tzinfo=UTC)
    feedback = [
        Feedback(item_id="x1", label_kind="theme", label="dai-hoi-dang", action="confirm",
                 user="a", at=at),
        Feedback(item_id="x1", label_kind="theme", label="doi-ngoai", action="add",
                 user="a", at=at),
        Feedback(item_id="x1", label_kind="theme", label="doi-ngoai", action="reject",
                 user="b", at=at.replace(day=2)),   # the later word wins
        Feedback(item_id="gone", label_kind="theme", label="doi-ngoai", action="add",
                 user="a", at=at),
        Feedback(item_id="x1", label_kind="anniversary", label="quoc-khanh-80",
                 action="dismiss", user="a", at=at),  # the review queue's "does not apply"
    ]
    items = list(feedback_items(feedback, {"x1": item}.get, plan))
    assert len(items) == 1
    made = items[0]
    assert made.themes == frozenset({"dai-hoi-dang"}) and made.anniversaries == frozenset()
    assert made.known == frozenset({"dai-hoi-dang", "doi-ngoai", "quoc-khanh-80"})
    assert made.knows("doi-ngoai") and made.knows("quoc-khanh-80")
    assert not made.knows("niem-tin-moi")


def test_data_hash_ignores_order_but_not_labels(plan: Plan, tmp_path: Path) -> None:
    path = write(tmp_path / "g.jsonl", [
        {"id": "a", "title": "A", "themes": ["doi-ngoai"]},
        {"id": "b", "title": "B", "themes": []},
    ])
    items = load_corpus(plan, [path]).items
    assert data_hash(items) == data_hash(list(reversed(items)))
    changed = write(tmp_path / "h.jsonl", [
        {"id": "a", "title": "A", "themes": []},
        {"id": "b", "title": "B", "themes": []},
    ])
    assert data_hash(items) != data_hash(load_corpus(plan, [changed]).items)
