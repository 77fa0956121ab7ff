"""The phrase matcher: diacritics or not, case, NFD, old tone marks, negatives, boundaries."""

from __future__ import annotations

import unicodedata

import pytest

from classifier.matcher import PhraseMatcher
from classifier.normalize import Document
from dophu.config import Plan


@pytest.fixture(scope="module")
def matcher(plan: Plan) -> PhraseMatcher:
    return PhraseMatcher(plan)


def found(matcher: PhraseMatcher, title: str, text: str = "") -> dict[str, list[str]]:
    result = matcher.find(Document.from_raw(title, text))
    return {label: [m.quote for m in matches] for label, matches in result.positives.items()}


PROPER = "Kỷ niệm 50 năm Ngày giải phóng miền Nam, thống nhất đất nước"


@pytest.mark.parametrize("title", [
    PROPER,
    "ky niem 50 nam ngay giai phong mien nam, thong nhat dat nuoc",
    unicodedata.normalize("NFD", PROPER),
    PROPER.upper(),
    "KY NIEM 50 NAM NGAY GIAI PHONG MIEN NAM THONG NHAT DAT NUOC",
])
def test_phrase_found_however_it_is_typed(matcher: PhraseMatcher, title: str) -> None:
    hits = found(matcher, title)
    assert "giai-phong-mien-nam-50" in hits
    assert all(label == "giai-phong-mien-nam-50" for label in hits)


def test_quotes_are_the_words_as_written(matcher: PhraseMatcher) -> None:
    hits = found(matcher, "KỶ NIỆM 50 NĂM NGÀY GIẢI PHÓNG MIỀN NAM")
    assert "50 NĂM NGÀY GIẢI PHÓNG MIỀN NAM" in hits["giai-phong-mien-nam-50"]
    hits = found(matcher, "Chuan bi le ky niem 50 nam ngay giai phong mien nam")
    assert "50 nam ngay giai phong mien nam" in hits["giai-phong-mien-nam-50"]


def test_old_tone_marks_match(matcher: PhraseMatcher) -> None:
    # the plan writes "hòa"; the text uses the old placement "hoà"
    assert "bao-ve-nen-tang" in found(matcher, "Cảnh giác với âm mưu diễn biến hoà bình")


def test_date_forms(matcher: PhraseMatcher) -> None:
    for text in ("Ngày 30/4/1975", "ngày 30-4-1975", "ngày 30.04.1975"):
        assert "giai-phong-mien-nam-50" in found(matcher, text), text
    assert "quoc-khanh-80" in found(matcher, "Mừng Quốc khánh 2-9")
    assert "quoc-khanh-80" in found(matcher, "Mừng Quốc khánh 2/9")


def test_punctuation_between_words_does_not_matter(matcher: PhraseMatcher) -> None:
    assert "niem-tin-moi" in found(matcher, "Tinh thần quyết tâm quyết làm")
    assert "niem-tin-moi" in found(matcher, "Tinh thần “quyết tâm, quyết làm”")


def test_diacritics_must_agree_when_the_text_has_them(matcher: PhraseMatcher) -> None:
    # "đang" (currently) is not "Đảng" (the Party) in a text written with diacritics
    assert "dai-hoi-dang" not in found(matcher, "Đại hội đang bộ môn bóng đá đã kết thúc")
    assert "dai-hoi-dang" in found(matcher, "Đại hội Đảng bộ phường An Bình")
    # a text without diacritics cannot tell, so it matches
    assert "dai-hoi-dang" in found(matcher, "Dai hoi dang bo phuong An Binh")


def test_whole_words_only(matcher: PhraseMatcher) -> None:
    assert "quoc-khanh-80" in found(matcher, "Đại lễ A80")
    assert "quoc-khanh-80" not in found(matcher, "Mẫu xe A800 mới ra mắt")


@pytest.mark.parametrize(("text", "label"), [
    ("Chi trả tiền bồi thường giải phóng mặt bằng dự án", "giai-phong-mien-nam-50"),
    ("Đẩy mạnh đổi mới sáng tạo trong doanh nghiệp", "co-do-40-nam"),
    ("Chuyển đổi số: bước vào kỷ nguyên số", "ky-nguyen-moi"),
    ("Đại hội Thể dục thể thao huyện Phong Điền lần thứ X", "dai-hoi-dang"),
    ("Điện mừng Quốc khánh Lào 2/12", "quoc-khanh-80"),
])
def test_look_alikes_are_suppressed(matcher: PhraseMatcher, text: str, label: str) -> None:
    result = matcher.find(Document.from_raw(text, ""))
    assert label not in result.positives
    assert result.negatives, "the negative context itself is reported"


def test_negative_applies_only_where_it_overlaps(matcher: PhraseMatcher) -> None:
    text = ("Giải phóng mặt bằng xong trước Đại lễ kỷ niệm 50 năm Ngày giải phóng miền Nam, "
            "thống nhất đất nước")
    assert "giai-phong-mien-nam-50" in found(matcher, text)


def test_a_label_negative_does_not_touch_other_labels(matcher: PhraseMatcher) -> None:
    # "Quốc khánh Lào" is a look-alike of quoc-khanh-80 and a foreign-affairs phrase
    hits = found(matcher, "Điện mừng Quốc khánh Lào")
    assert "doi-ngoai" in hits
    assert "quoc-khanh-80" not in hits


def test_an_empty_plan_matches_nothing(plan: Plan) -> None:
    bare = plan.model_copy(update={
        "themes": [t.model_copy(update={"phrases": [], "negative": []}) for t in plan.themes],
        "anniversaries": [a.model_copy(update={"phrases": [], "negative": []})
                          for a in plan.anniversaries],
        "negative_contexts": []})
    assert PhraseMatcher(bare).find(Document.from_raw(PROPER, "")).positives == {}
