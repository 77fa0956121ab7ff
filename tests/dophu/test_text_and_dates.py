"""Normalisation at the door and the local calendar."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime

import pytest

from dophu.dates import (
    DateParseError,
    iso_week_key,
    local_day_bounds,
    parse_date,
    parse_datetime,
    parse_iso_week,
)
from dophu.text import _normalize, fold, fold_lower, normalize_text


@pytest.mark.parametrize(("raw", "expected"), [
    ("hoà bình", "hòa bình"), ("Thuỷ lợi", "Thủy lợi"), ("khoẻ", "khỏe"), ("HOÀ", "HÒA"),
    ("quý khách", "quý khách"), ("Hoàng", "Hoàng"), ("hoàn thành", "hoàn thành"),
    ("giỏi", "giỏi"), ("tuỳ", "tùy"), ("uỷ ban", "ủy ban"), ("quỳnh", "quỳnh"),
])
def test_tone_marks_take_the_modern_place(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_nfd_zero_width_and_spaces_are_normalised() -> None:
    raw = unicodedata.normalize("NFD", "Kỷ  niệm\u200b 50 năm\u00a0giải phóng\r\n\r\n\r\nmiền Nam ")
    text = normalize_text(raw)
    assert text == "Kỷ niệm 50 năm giải phóng\n\nmiền Nam"
    assert unicodedata.is_normalized("NFC", text)
    assert normalize_text(raw, multiline=False) == "Kỷ niệm 50 năm giải phóng miền Nam"


def test_the_shortcut_for_normal_text_changes_nothing() -> None:
    """normalize_text returns text it finds nothing to change in as it is; on every mix of
    the awkward pieces it must give exactly what the full normalisation gives, and that
    result must come back unchanged."""
    import random

    pieces = [" ", "  ", "\n", "\n\n", "\n\n\n", "\t", "\u00a0", "\u200b", "\r\n", "\u3000",
              "hoà", "thuỷ", "toàn", "quý", "Hoà", "OÀ", "khoẻ", "x", " \n ", "oà.", "a\u0300",
              "o\u0301a", "Đại hội", "uỷ ban", "\u2028", "giờ"]
    rng = random.Random(7)
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 8)))
        for multiline in (True, False):
            full = _normalize(text, multiline)
            assert normalize_text(text, multiline=multiline) == full, (text, multiline)
            assert normalize_text(full, multiline=multiline) == full, (full, multiline)


def test_fold_keeps_length_and_maps_d_bar() -> None:
    text = "Đại hội Đảng bộ phường Ninh Kiều: Ưu tiên ổn định"
    assert fold(text) == "Dai hoi Dang bo phuong Ninh Kieu: Uu tien on dinh"
    assert len(fold(text)) == len(text)
    assert fold_lower("ĐẢNG") == "dang"


def test_dates_iso_vietnamese_and_naive_local() -> None:
    assert parse_datetime("2025-04-28T08:15:00+07:00").isoformat() == "2025-04-28T08:15:00+07:00"
    assert parse_datetime("2025-04-28T01:15:00Z").utcoffset().total_seconds() == 0
    assert parse_datetime("2025-04-28 08:15").isoformat() == "2025-04-28T08:15:00+07:00"
    for text in ("Thứ Hai, 28/04/2025 - 08:15", "08:15 ngày 28/4/2025", "28-4-2025 8h15"):
        assert parse_datetime(text).isoformat() == "2025-04-28T08:15:00+07:00", text
    assert parse_datetime("ngày 28 tháng 4 năm 2025").date() == date(2025, 4, 28)
    assert parse_datetime(None) is None and parse_datetime("") is None
    with pytest.raises(DateParseError, match="not a date"):
        parse_datetime("hôm qua")
    with pytest.raises(DateParseError):
        parse_date("31/02/2025")
    assert parse_date("30/4/2025") == date(2025, 4, 30)


def test_iso_weeks_in_local_time() -> None:
    assert parse_iso_week("2025-W18") == (date(2025, 4, 28), date(2025, 5, 4))
    assert parse_iso_week("2026-W01") == (date(2025, 12, 29), date(2026, 1, 4))
    assert iso_week_key(date(2025, 5, 4)) == "2025-W18"
    with pytest.raises(DateParseError):
        parse_iso_week("2025-W54")
    start, end = local_day_bounds(date(2025, 4, 28), date(2025, 5, 4))
    assert start == datetime.fromisoformat("2025-04-28T00:00:00+07:00")
    assert end == datetime.fromisoformat("2025-05-05T00:00:00+07:00")
