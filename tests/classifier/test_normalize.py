"""Normalisation: NFC/NFD, tone placement, case, folding, i/y spelling, numbers, spans."""

from __future__ import annotations

import unicodedata

from classifier.normalize import (
    Document,
    canonical_syllable,
    folded_words,
    lead_length,
    normalize_phrase,
)


def test_decomposed_and_composed_text_give_the_same_words() -> None:
    text = "Kỷ niệm 50 năm Ngày giải phóng miền Nam"
    nfd = unicodedata.normalize("NFD", text)
    assert nfd != text
    assert Document.from_raw(nfd, "").words == Document.from_raw(text, "").words
    assert Document.from_raw(nfd, "").title == text  # normalised to NFC at the door


def test_old_and_new_tone_placement_match() -> None:
    old = Document.from_raw("Hoà bình, thuỷ lợi, khoẻ mạnh", "")
    new = Document.from_raw("Hòa bình, thủy lợi, khỏe mạnh", "")
    assert old.title == new.title
    assert old.words == new.words == ["hoa", "binh", "thuy", "loi", "khoe", "manh"]


def test_folding_removes_diacritics_and_maps_d() -> None:
    assert folded_words("ĐẠI HỘI Đảng bộ") == ["dai", "hoi", "dang", "bo"]
    assert folded_words("dai hoi dang bo") == ["dai", "hoi", "dang", "bo"]


def test_i_and_y_spellings_are_merged() -> None:
    assert folded_words("kỉ niệm") == folded_words("kỷ niệm") == ["ki", "niem"]
    assert folded_words("lí luận") == folded_words("lý luận")
    # "uy", "ay" are vowels, not the i/y variant
    assert folded_words("tuy huy hay") == ["tuy", "huy", "hay"]


def test_numbers_lose_leading_zeros_and_separators() -> None:
    assert folded_words("02/09/1945") == folded_words("2-9-1945") == ["2", "9", "1945"]
    assert canonical_syllable("0") == "0"


def test_punctuation_is_not_part_of_a_phrase() -> None:
    assert normalize_phrase("quyết tâm, quyết làm")[0] == "quyet tam quyet lam"
    assert normalize_phrase("Kinh tế - xã hội")[0] == "kinh te xa hoi"


def test_marked_forms_keep_diacritics() -> None:
    key, marked = normalize_phrase("Đại hội Đảng bộ")
    assert key == "dai hoi dang bo"
    assert marked == ("đại", "hội", "đảng", "bộ")


def test_spans_point_at_the_original_words() -> None:
    doc = Document.from_raw("Lễ kỷ niệm", "Quốc khánh 2/9 năm nay")
    assert doc.words[:2] == ["le", "ki"]
    assert doc.span_text(2, 2) == "niệm"
    assert doc.span_text(3, 6) == "Quốc khánh 2/9"
    assert doc.title_token_count == 3


def test_written_with_marks_tells_posts_without_diacritics_apart() -> None:
    assert Document.from_raw("Đại hội Đảng bộ phường An Bình thành công", "").written_with_marks
    assert not Document.from_raw("Dai hoi Dang bo phuong An Binh thanh cong", "").written_with_marks


def test_lead_is_whole_first_sentences() -> None:
    first = "Sáng 29/4, Thành ủy tổ chức lễ kỷ niệm trọng thể tại trung tâm hội nghị thành phố. "
    body = first * 3 + "Câu cuối cùng."
    length = lead_length(body)
    assert 35 <= length <= 80
    assert length % len(folded_words(first)) == 0
    assert lead_length("Một câu ngắn.") == 3
    assert lead_length("") == 0
