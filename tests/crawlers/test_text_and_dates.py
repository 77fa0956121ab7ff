"""Decoding pages whose charset lies, and dates as Vietnamese pages and feeds write them."""

from __future__ import annotations

import unicodedata
from datetime import datetime

import ftfy.bad_codecs  # noqa: F401 - registers "sloppy-windows-1252" for the mojibake sample
import pytest

from crawlers.dates import parse_any_datetime, parse_iso, plausible
from crawlers.encoding import decode_html, vietnamese_score
from dophu.dates import LOCAL_TZ
from dophu.models import Item

SAMPLE = ("Thành phố Cần Thơ kỷ niệm 50 năm Ngày giải phóng miền Nam, thống nhất đất nước. "
          "Đại hội Đảng bộ phường Ninh Kiều lần thứ I, nhiệm kỳ 2025 - 2030. Hòa bình, thủy lợi.")


def cp1258(text: str) -> bytes:
    """Windows-1258 as Vietnamese sites write it: base letter + combining tone mark."""
    out = bytearray()
    for char in text:
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            base, *marks = unicodedata.normalize("NFD", char)
            tones = [m for m in marks if m in "\u0300\u0301\u0303\u0309\u0323"]
            rest = [m for m in marks if m not in tones]
            out += unicodedata.normalize("NFC", base + "".join(rest)).encode("cp1258")
            out += "".join(tones).encode("cp1258")
    return bytes(out)


def page(charset: str) -> str:
    return f"<html><head><meta charset='{charset}'></head><body><p>{SAMPLE}</p></body></html>"


def as_stored(text: str) -> str:
    return Item(id="x", source="s", unit="u", kind="portal", title="t", text=text).text


@pytest.mark.parametrize(("body", "content_type", "encoding"), [
    (cp1258(page("windows-1258")), "text/html; charset=windows-1258", "cp1258"),
    # mislabelled: the bytes are windows-1258, header and meta both say UTF-8
    (cp1258(page("utf-8")), "text/html; charset=utf-8", "cp1258"),
    (cp1258(page("utf-8")), None, "cp1258"),
    # the other way round: UTF-8 bytes labelled windows-1258
    (page("windows-1258").encode("utf-8"), "text/html; charset=windows-1258", "utf-8"),
    (b"\xef\xbb\xbf" + page("utf-8").encode("utf-8"), "text/html", "utf-8"),
])
def test_decoding_gives_correct_vietnamese(body: bytes, content_type: str | None,
                                           encoding: str) -> None:
    decoded = decode_html(body, content_type)
    assert decoded.encoding == encoding
    assert SAMPLE in as_stored(decoded.text)


def test_mislabelled_page_is_reported_as_such() -> None:
    decoded = decode_html(cp1258(page("utf-8")), "text/html; charset=utf-8")
    assert decoded.declared == "utf-8" and decoded.mislabelled


def test_mojibake_is_repaired() -> None:
    broken = page("utf-8").encode("utf-8").decode("sloppy-windows-1252").encode("utf-8")
    decoded = decode_html(broken, "text/html; charset=utf-8")
    assert decoded.repaired
    assert SAMPLE in as_stored(decoded.text)


def test_nfd_and_old_tone_marks_are_stored_nfc_modern() -> None:
    stored = as_stored(unicodedata.normalize("NFD", "Hoà bình, thuỷ lợi, Cần Thơ"))
    assert stored == "Hòa bình, thủy lợi, Cần Thơ"
    assert unicodedata.is_normalized("NFC", stored)


def test_vietnamese_score_prefers_the_right_decoding() -> None:
    raw = cp1258(SAMPLE)
    assert vietnamese_score(raw.decode("cp1258")) > vietnamese_score(raw.decode("cp1252"))


@pytest.mark.parametrize(("text", "expected"), [
    ("Thứ Hai, 28/04/2025 - 08:15", "2025-04-28T08:15:00+07:00"),
    ("28-4-2025", "2025-04-28T00:00:00+07:00"),
    ("08:15 ngày 28/4/2025", "2025-04-28T08:15:00+07:00"),
    ("Thứ bảy, 7/3/2026, 00:05 (GMT+7)", "2026-03-07T00:05:00+07:00"),
    ("Cập nhật 8h15 ngày 28.4.2025", "2025-04-28T08:15:00+07:00"),
    ("ngày 30 tháng 4 năm 2025", "2025-04-30T00:00:00+07:00"),
    ("2026-03-07T08:52:11.000 +07:00", "2026-03-07T08:52:11+07:00"),
    ("2026-03-07T00:01:00", "2026-03-07T00:01:00+07:00"),
    ("2025-04-28T01:15:00Z", "2025-04-28T08:15:00+07:00"),
    ("2025-04-28T08:15:00+0700", "2025-04-28T08:15:00+07:00"),
    ("Mon, 28 Apr 2025 08:15:00 +0700", "2025-04-28T08:15:00+07:00"),
    ("Mon, 28 Apr 2025 01:15:00 GMT", "2025-04-28T08:15:00+07:00"),
])
def test_dates_are_parsed_in_ho_chi_minh_time(text: str, expected: str) -> None:
    parsed = parse_any_datetime(text)
    assert parsed is not None and parsed.tzinfo is not None
    assert parsed == datetime.fromisoformat(expected)


@pytest.mark.parametrize("text", ["", "không có ngày", "31/02/2025", "2025-13-01"])
def test_not_dates_give_none(text: str) -> None:
    assert parse_any_datetime(text) is None


def test_implausible_dates_are_dropped() -> None:
    assert plausible(datetime(1970, 1, 1, tzinfo=LOCAL_TZ)) is None
    assert plausible(datetime(2999, 1, 1, tzinfo=LOCAL_TZ)) is None
    assert parse_iso("28/04/2025") is None
