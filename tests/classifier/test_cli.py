"""``dophu tag``, ``train``, ``evaluate`` and ``review`` through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classifier.model import load_bundle, save_bundle
from dophu.config import Plan
from tests.classifier.conftest import small_training_set
from tests.dophu.cli_runner import Dophu

DOCS = [
    {"id": "a", "title": "Cần Thơ kỷ niệm 80 năm Quốc khánh 2/9",
     "text": "Lễ mít tinh trọng thể sáng 1/9.", "published_at": "2025-09-01T08:00:00+07:00",
     "url": "https://example.vn/a"},
    {"id": "b", "title": "Giá lúa hôm nay", "text": "Giá lúa ổn định."},
    {"id": 7, "title": "chi tra tien giai phong mat bang du an duong", "text": ""},
]


@pytest.fixture
def dophu(config_dir: Path, data_dir: Path) -> Dophu:
    return Dophu(config_dir, data_dir)


def lines_of(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)
                              for r in rows) + "\n", encoding="utf-8")
    return path


def test_tag_from_a_file(dophu: Dophu, tmp_path: Path) -> None:
    result = dophu("tag", str(write_jsonl(tmp_path / "in.jsonl", DOCS)), "--json")
    assert result.exit_code == 0, result.stderr
    out = lines_of(result.stdout)
    assert [o["id"] for o in out] == ["a", "b", "7"]
    first = out[0]
    assert set(first) == {"id", "relevant", "themes", "anniversaries"}
    assert first["relevant"] is True
    tag = next(t for t in first["anniversaries"] if t["id"] == "quoc-khanh-80")
    assert set(tag) == {"id", "score", "evidence"} and 0 <= tag["score"] <= 1
    assert any("Quốc khánh 2/9" in e for e in tag["evidence"])
    assert out[1]["relevant"] is False and out[2]["relevant"] is False
    assert "tagged 3" in result.stderr


def test_tag_from_stdin_with_bad_lines(dophu: Dophu) -> None:
    text = "\n".join([json.dumps(DOCS[0], ensure_ascii=False), "{oops",
                      json.dumps({"title": "no id"}), json.dumps(DOCS[1], ensure_ascii=False),
                      json.dumps({"id": "d", "title": "x", "published_at": "mai"})])
    result = dophu("tag", input=text + "\n")
    assert result.exit_code == 2
    assert [o["id"] for o in lines_of(result.stdout)] == ["a", "b"]
    assert "stdin:2: not valid JSON" in result.stderr
    assert "stdin:3: id: required" in result.stderr
    assert "stdin:5: published_at: not a date" in result.stderr


def test_tag_missing_file_is_bad_input(dophu: Dophu, tmp_path: Path) -> None:
    result = dophu("tag", str(tmp_path / "none.jsonl"))
    assert result.exit_code == 2
    assert "file not found" in result.stderr


def test_train_writes_a_versioned_model_and_learns_feedback(
        dophu: Dophu, plan: Plan, data_dir: Path, tmp_path: Path) -> None:
    from dophu.context import Context
    from dophu.models import Feedback, Item

    items = small_training_set(plan, 120)
    corpus = write_jsonl(tmp_path / "small.jsonl", [
        {"id": i.id, "title": i.title, "text": i.text,
         "published_at": i.published_at.isoformat() if i.published_at else None,
         "themes": sorted(i.themes), "anniversaries": sorted(i.anniversaries), "form": i.form}
        for i in items])
    context = Context(config_dir=dophu.config_dir, data_dir=data_dir)
    stored = Item(id="fb1", source="baocantho", unit="bao-can-tho", kind="newspaper",
                  title="Hội nghị sơ kết phong trào thi đua", text="Nội dung hội nghị")
    context.store.upsert([stored])
    context.store.add_feedback(Feedback(item_id="fb1", label_kind="theme",
                                        label="thi-dua-khen-thuong", action="confirm",
                                        user="tester", at="2025-05-01T08:00:00+07:00"))
    context.close()

    out = dophu.json("train", "--data-file", str(corpus))
    model_path = data_dir / "models" / f"{plan.id}.joblib"
    assert out["model"] == str(model_path) and model_path.exists()
    assert out["plan_id"] == plan.id
    assert out["model_version"].startswith(plan.id + "@")
    assert len(out["data_hash"]) == 64 and out["trained_at"]
    assert "combined" in out["thresholds"]
    assert out["feedback_items"] == 1
    assert {"theme:niem-tin-moi", "anniversary:tong-tuyen-cu-80"} <= set(out["labels"])
    bundle = load_bundle(model_path)
    assert bundle.info["feedback_items"] == 1
    # the tagger of this data dir now uses the new model
    result = dophu("tag", input=json.dumps(DOCS[0], ensure_ascii=False) + "\n")
    assert result.exit_code == 0
    assert str(model_path) in result.stderr


def test_train_with_too_little_data_is_bad_input(dophu: Dophu, tmp_path: Path) -> None:
    corpus = write_jsonl(tmp_path / "tiny.jsonl", [{"id": "x", "title": "Tin", "themes": []}])
    result = dophu("train", "--data-file", str(corpus), "--out", str(tmp_path / "m.joblib"))
    assert result.exit_code == 2
    assert "to train on" in result.stderr


def test_evaluate_a_gold_file(dophu: Dophu, plan: Plan, small_model: Path,
                              tmp_path: Path) -> None:
    gold = write_jsonl(tmp_path / "gold.jsonl", [
        {"id": "g1", "title": "Kỷ niệm 50 năm Ngày giải phóng miền Nam, thống nhất đất nước",
         "text": "", "published_at": "2025-04-28T08:00:00+07:00",
         "themes": [], "anniversaries": ["giai-phong-mien-nam-50"]},
        {"id": "g2", "title": "Bồi thường giải phóng mặt bằng đường Võ Văn Kiệt", "text": "",
         "published_at": "2025-04-28T08:00:00+07:00", "themes": [], "anniversaries": []},
        {"id": "g3", "title": "Đại hội Đảng bộ phường Cái Khế nhiệm kỳ 2025 - 2030",
         "text": "", "published_at": "2025-06-10T08:00:00+07:00",
         "themes": ["dai-hoi-dang"], "anniversaries": []},
    ])
    out = dophu.json("evaluate", "--gold", str(gold), "--model", str(small_model))
    assert out["gold"]["items"] == 3
    combined = out["results"]["all"]["combined"]
    assert set(out["results"]["all"]) == {"rules", "model", "combined"}
    assert combined["relevance"]["f1"] == 1.0
    assert combined["labels"]["dai-hoi-dang"]["tp"] == 1
    assert combined["theme"]["micro"]["f1"] == 1.0
    assert combined["anniversary"]["macro_f1"] == 1.0
    trap = next(t for t in combined["traps"] if t["phrase"] == "giải phóng mặt bằng")
    assert trap == {"phrase": "giải phóng mặt bằng", "labels": ["giai-phong-mien-nam-50"],
                    "items": 1, "wrongly_tagged": 0}
    text = dophu("evaluate", "--gold", str(gold), "--model", str(small_model))
    assert text.exit_code == 0 and "combined" in text.stdout
    assert "intervals" not in combined                  # only when asked for
    out = dophu.json("evaluate", "--gold", str(gold), "--model", str(small_model),
                     "--bootstrap", "200")
    for mode in ("rules", "model", "combined"):
        intervals = out["results"]["all"][mode]["intervals"]
        assert intervals["resamples"] == 200
        low, high = intervals["relevance_f1"]
        assert 0.0 <= low <= out["results"]["all"][mode]["relevance"]["f1"] <= high <= 1.0
    assert out["results"]["all"]["combined"]["intervals"]["relevance_f1"] == [1.0, 1.0]
    text = dophu("evaluate", "--gold", str(gold), "--model", str(small_model),
                 "--bootstrap", "200")
    assert "all, combined: 95% intervals over 200 resamples of the items: relevance F1 " \
        "1.000-1.000" in text.stdout
    # a paired comparison: the same model gives no difference; one that tags nothing loses
    # all of relevance on every resample that has a relevant item
    same = dophu.json("evaluate", "--gold", str(gold), "--model", str(small_model),
                      "--compare-model", str(small_model))["comparison"]
    assert same["resamples"] == 1000 and same["second"] == str(small_model)
    assert same["subsets"]["all"]["relevance_f1"] == {
        "first": 1.0, "second": 1.0, "difference": 0.0, "interval": [0.0, 0.0]}
    bundle = load_bundle(small_model)
    bundle.thresholds["combined"] = {k: 1.01 for k in bundle.thresholds["combined"]}
    bundle.thresholds["combined:short"] = dict(bundle.thresholds["combined"])
    silent = save_bundle(bundle, tmp_path / "silent.joblib")
    worse = dophu.json("evaluate", "--gold", str(gold), "--model", str(small_model),
                       "--compare-model", str(silent), "--bootstrap", "300")["comparison"]
    assert worse["resamples"] == 300
    assert worse["subsets"]["all"]["relevance_f1"] == {
        "first": 1.0, "second": 0.0, "difference": -1.0, "interval": [-1.0, -1.0]}
    text = dophu("evaluate", "--gold", str(gold), "--model", str(small_model),
                 "--compare-model", str(silent))
    assert "comparison, all" in text.stdout and "-1.000 to -1.000" in text.stdout


def test_evaluate_with_a_model_of_another_plan_is_a_clear_error(
        dophu: Dophu, small_model: Path, tmp_path: Path) -> None:
    bundle = load_bundle(small_model)
    bundle.plan_id = "ke-hoach-khac"
    other = save_bundle(bundle, tmp_path / "other.joblib")
    result = dophu("evaluate", "--model", str(other))
    assert result.exit_code == 2
    assert "trained for plan 'ke-hoach-khac'" in result.stderr
    result = dophu("evaluate", "--model", str(tmp_path / "missing.joblib"))
    assert result.exit_code == 2
    assert "model file not found" in result.stderr


def test_evaluate_names_a_bad_gold_line(dophu: Dophu, tmp_path: Path) -> None:
    gold = write_jsonl(tmp_path / "gold.jsonl", [
        {"id": "g1", "title": "Tin", "themes": []}, {"id": "g2", "title": "Tin", "themes": "x"}])
    result = dophu("evaluate", "--gold", str(gold))
    assert result.exit_code == 2
    assert "gold.jsonl:2: themes: expected a list of ids" in result.stderr


def test_evaluate_default_is_the_held_out_split(dophu: Dophu) -> None:
    out = dophu.json("evaluate")
    assert out["gold"]["source"] == "held-out split of classifier/data"
    assert "real" in out["results"]
    # what the review queue would show a person (its yield is tested in test_review.py)
    queue = out["results"]["real"]["combined"]["review_queue"]
    assert queue["max_distance"] == 1.0 and "review_queue" not in out["results"]["real"]["model"]
    assert 0 < queue["queued_wrong"] <= min(queue["queued"], queue["wrong"])
    assert queue["queued_items"] <= queue["queued"] < queue["pairs"]
    text = dophu("evaluate")
    assert text.exit_code == 0 and "review queue (distance <= 1.0):" in text.stdout


def _row(item, published_at: str | None) -> dict:  # noqa: ANN001 - a LabelledItem
    row = {"id": item.id, "form": item.form, "title": item.title, "text": item.text,
           "themes": sorted(item.themes), "anniversaries": sorted(item.anniversaries)}
    if published_at:
        row["published_at"] = published_at
    return row


def test_evaluate_time_split(dophu: Dophu, plan: Plan, tmp_path: Path) -> None:
    """Train on what was published before a date, test on held-out items a month later,
    against a model trained on a random sample of the same size."""
    from classifier.corpus import load_corpus

    train = small_training_set(plan)
    heldout = sorted((i for i in load_corpus(plan).test if i.form != "real"),
                     key=lambda i: i.id)[:60]
    rows = [_row(item, None if n < 4 else ("2025-03-01T08:00:00+07:00" if n % 2
                                           else "2025-07-01T08:00:00+07:00"))
            for n, item in enumerate(train)]
    rows += [_row(item, "2025-08-15T08:00:00+07:00") for item in heldout[:50]]
    rows += [_row(item, "2025-06-20T08:00:00+07:00") for item in heldout[50:]]
    corpus = write_jsonl(tmp_path / "corpus.jsonl", rows)
    out = dophu.json("evaluate", "--trained-before", "2025-06-01", "--data-file", str(corpus))
    earlier = 4 + sum(1 for n in range(4, len(train)) if n % 2)
    assert (out["train_items"], out["training_part"]) == (earlier, len(train))
    assert out["tested_from"] == "2025-07-02"       # a month after, by default
    assert out["test_items"] == 50                   # the 10 items of 20/6 are too early
    assert out["test_relevant"] == sum(i.relevant for i in heldout[:50])
    for arm in ("trained_before", "random_sample"):
        modes = out["results"][arm]["all"]
        assert set(modes) == {"rules", "model", "combined"}
        assert 0.0 < modes["combined"]["relevance"]["f1"] <= 1.0
    later = dophu.json("evaluate", "--trained-before", "2025-06-01", "--tested-from",
                       "2025-06-15", "--data-file", str(corpus))
    assert later["test_items"] == 60
    text = dophu("evaluate", "--trained-before", "2025-06-01", "--data-file", str(corpus))
    assert text.exit_code == 0
    assert f"trained on {earlier} of {len(train)} training items" in text.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--trained-before", "2025-13-01"], "--trained-before: expected a date like 2026-01-01"),
    (["--trained-before", "2020-01-01"], "training item(s) published before 2020-01-01"),
    (["--trained-before", "2025-06-01", "--tested-from", "2025-05-01"], "is before"),
    (["--trained-before", "2025-06-01", "--gold", "x.jsonl"], "not --gold or --model"),
    (["--tested-from", "2025-06-01"], "go with --trained-before"),
    (["--bootstrap", "-1"], "--bootstrap: expected 0 to 20,000 resamples, got -1"),
    (["--bootstrap", "20001"], "--bootstrap: expected 0 to 20,000 resamples, got 20001"),
    (["--trained-before", "2025-06-01", "--bootstrap", "100"], "not --trained-before"),
    (["--trained-before", "2025-06-01", "--compare-model", "m.joblib"], "not --trained-before"),
    (["--compare-model", "missing.joblib"], "model file not found"),
])
def test_evaluate_time_split_bad_input(dophu: Dophu, args: list[str], message: str) -> None:
    result = dophu("evaluate", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_review_lists_the_stored_labels_nearest_a_threshold(
        dophu: Dophu, data_dir: Path, tmp_path: Path) -> None:
    rows = [{"url": f"https://example.vn/a80-{n}", "title": title, "text": text,
             "published_at": f"2025-09-0{n}T08:00:00+07:00"}
            for n, (title, text) in enumerate([
                ("Doanh nghiệp mang sản phẩm đến Triển lãm thành tựu đất nước",
                 "Công ty trưng bày sản phẩm tại triển lãm 80 năm hành trình Độc lập."),
                ("Metro miễn phí vé dịp đại lễ 2/9", "Người dân đi tàu miễn phí dịp lễ."),
                ("Du lịch Hà Nội đông khách dịp Quốc khánh", "Khách sạn kín phòng dịp 2/9."),
            ], start=1)]
    imported = dophu("import", str(write_jsonl(tmp_path / "in.jsonl", rows)),
                     "--source", "baocantho")
    assert imported.exit_code == 0, imported.stderr
    out = dophu.json("review", "--from", "2025-09-01", "--to", "2025-09-30",
                     "--max-distance", "10", "--limit", "500")
    assert out["date_from"] == "2025-09-01" and out["date_to"] == "2025-09-30"
    assert out["items_in_period"] == 3 and out["items_scored"] == 3 and out["model"]
    distances = [c["distance"] for c in out["candidates"]]
    assert distances == sorted(distances) and len({c["item"]["id"] for c in
                                                   out["candidates"]}) == 3
    # the same JSON as GET /api/review: one shape for the CLI and the web
    from api.schemas import ReviewResponse

    ReviewResponse.model_validate(out)
    one = dophu.json("review", "--from", "2025-09-01", "--to", "2025-09-30",
                     "--max-distance", "10", "--label", "quoc-khanh-80")
    assert {c["label"] for c in one["candidates"]} == {"quoc-khanh-80"}
    assert len(one["candidates"]) == 3
    text = dophu("review", "--from", "2025-09-01", "--to", "2025-09-30", "--max-distance", "10")
    assert text.exit_code == 0 and "3 items from 2025-09-01 to 2025-09-30" in text.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--label", "khong-co"], "--label: unknown label id 'khong-co'"),
    (["--unit", "khong-co"], "--unit: unknown unit id 'khong-co'"),
    (["--from", "2025-09-02", "--to", "2025-09-01"], "is after --to"),
    (["--from", "hom qua"], "--from: expected a date"),
])
def test_review_bad_input(dophu: Dophu, args: list[str], message: str) -> None:
    result = dophu("review", *args)
    assert result.exit_code == 2 and message in result.stderr
