"""The tagger: evidence, date reasoning, traps, model fallbacks, Items, threads."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest

from classifier import model as model_module
from classifier import tagger as tagger_module
from classifier.model import load_bundle, save_bundle
from classifier.tagger import Tagger, build_tagger
from dophu.config import Plan
from dophu.dates import LOCAL_TZ
from dophu.models import Item
from tests.conftest import read_news


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=LOCAL_TZ)


def test_rules_alone_tag_with_evidence_as_written(rules_tagger: Tagger) -> None:
    result = rules_tagger.tag({
        "title": "Cần Thơ long trọng kỷ niệm 50 năm Ngày giải phóng miền Nam",
        "text": "Lễ kỷ niệm diễn ra sáng 28/4.", "published_at": at("2025-04-27")})
    assert result.relevant
    (tag,) = result.anniversaries
    assert tag.id == "giai-phong-mien-nam-50"
    assert "50 năm Ngày giải phóng miền Nam" in tag.evidence
    assert "trong cửa sổ kỷ niệm (còn 3 ngày)" in tag.evidence
    assert 0 < tag.score <= 1


def test_without_diacritics_tags_the_same_labels(rules_tagger: Tagger) -> None:
    proper = rules_tagger.tag({"title": "Đại hội Đảng bộ phường An Bình nhiệm kỳ 2025 - 2030",
                               "text": "", "published_at": at("2025-06-02")})
    plain = rules_tagger.tag({"title": "dai hoi dang bo phuong an binh nhiem ky 2025 - 2030",
                              "text": "", "published_at": at("2025-06-02")})
    assert [t.id for t in proper.themes] == [t.id for t in plain.themes] == ["dai-hoi-dang"]
    assert plain.themes[0].evidence[0].startswith("dai hoi dang bo")


def test_out_of_window_anniversary_is_discounted(rules_tagger: Tagger) -> None:
    inside = rules_tagger.tag({"title": "Triển lãm ảnh về Cách mạng Tháng Tám", "text": "",
                               "published_at": at("2025-08-15")})
    later = rules_tagger.tag({"title": "Triển lãm ảnh về Cách mạng Tháng Tám", "text": "",
                              "published_at": at("2026-03-15")})
    assert [t.id for t in inside.anniversaries] == ["cach-mang-thang-tam-80"]
    assert later.anniversaries == []


@pytest.mark.parametrize("text", [
    "Quận Cái Răng chi trả 40 tỉ đồng bồi thường giải phóng mặt bằng đường Trần Hoàng Na",
    "Sở Khoa học tổ chức ngày hội đổi mới sáng tạo cho học sinh",
    "Ngân hàng ra mắt ứng dụng mới trong kỷ nguyên số",
    "Khai mạc Đại hội Thể dục thể thao quận Ninh Kiều lần thứ X",
    "Đại hội đồng cổ đông thường niên năm 2025 của công ty cấp thoát nước",
])
def test_traps_are_not_tagged(rules_tagger: Tagger, shipped: Tagger, text: str) -> None:
    for tagger in (rules_tagger, shipped):
        result = tagger.tag({"title": text, "text": "", "published_at": at("2025-04-20")})
        assert not result.relevant, (tagger.status, result)


def test_tag_item_returns_a_tagged_copy(shipped: Tagger) -> None:
    item = Item(id="i1", source="baocantho", unit="bao-can-tho", kind="newspaper",
                title="Dâng hương kỷ niệm 135 năm Ngày sinh Chủ tịch Hồ Chí Minh",
                text="Sáng 18/5, đoàn đại biểu thành phố dâng hương tưởng niệm Bác.",
                published_at="2025-05-18T08:00:00+07:00")
    tagged = shipped.tag_item(item)
    assert item.relevant is None and tagged.relevant is True
    assert tagged.id == item.id and tagged.title == item.title
    assert [t.id for t in tagged.anniversaries] == ["sinh-nhat-bac-135"]
    evidence = tagged.anniversaries[0].evidence
    assert any(e.startswith("mô hình (") for e in evidence)
    assert any(e.startswith("trong cửa sổ kỷ niệm") for e in evidence)


def test_packaged_model_is_used_when_the_data_dir_has_none(plan: Plan, tmp_path: Path) -> None:
    tagger = build_tagger(plan, model_path=tmp_path / "models" / f"{plan.id}.joblib")
    assert tagger.bundle is not None
    assert "classifier/models" in tagger.status


@pytest.fixture
def no_packaged_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(model_module, "PACKAGE_MODELS", tmp_path / "nothing")
    monkeypatch.setattr(tagger_module, "_warned", set())
    monkeypatch.setattr(tagger_module, "_cache", {})


@pytest.mark.usefixtures("no_packaged_model")
def test_no_model_at_all_warns_once_and_uses_rules(plan: Plan, tmp_path: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="dophu.classifier")
    missing = tmp_path / "models" / f"{plan.id}.joblib"
    first = build_tagger(plan, model_path=missing)
    build_tagger(plan, model_path=missing)
    Tagger(plan)  # a rules-only tagger by hand does not warn
    assert first.bundle is None and first.status.startswith("rules only")
    warnings = [r.message for r in caplog.records if "no trained model" in r.message]
    assert len(warnings) == 1
    assert "run 'dophu train'" in warnings[0]
    assert first.tag({"title": "Kỷ niệm 80 năm Quốc khánh 2/9", "text": "",
                      "published_at": at("2025-09-01")}).relevant


@pytest.mark.usefixtures("no_packaged_model")
def test_model_of_another_plan_warns_and_uses_rules(plan: Plan, small_model: Path,
                                                    tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="dophu.classifier")
    bundle = load_bundle(small_model)
    bundle.plan_id = "ke-hoach-khac"
    path = save_bundle(bundle, tmp_path / "models" / f"{plan.id}.joblib")
    tagger = build_tagger(plan, model_path=path)
    assert tagger.bundle is None
    assert any("trained for plan 'ke-hoach-khac'" in r.message for r in caplog.records)
    assert tagger.tag({"title": "Đại hội Đảng bộ thành phố Cần Thơ", "text": ""}).relevant


def test_tagging_from_threads_gives_the_same_results(shipped: Tagger) -> None:
    docs = [{"title": n["title"], "text": n["summary"], "published_at": n["seen_at"]}
            for n in read_news(400)]
    alone = [shipped.tag(d) for d in docs]
    with ThreadPoolExecutor(max_workers=6) as pool:
        threaded = list(pool.map(shipped.tag, docs))
        batched = [r for chunk in pool.map(shipped.tag_many,
                                            [docs[i:i + 50] for i in range(0, len(docs), 50)])
                   for r in chunk]
    assert threaded == alone
    assert batched == alone
