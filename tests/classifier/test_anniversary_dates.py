"""Anniversaries use dates: inside the window evidence counts fully, outside it is discounted."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from classifier.anniversary_dates import (
    EXPLICIT_OUTSIDE,
    IN_WINDOW,
    OTHER_YEAR,
    OUTSIDE,
    UNKNOWN_DATE,
    judge,
)
from classifier.matcher import PhraseMatcher
from classifier.normalize import Document
from dophu.config import Plan

LABEL = "cach-mang-thang-tam-80"   # 2025-08-19, window 30 days before, 10 after


def judged(plan: Plan, title: str, published: date | datetime | None):
    anniversary = plan.anniversary(LABEL)
    doc = Document.from_raw(title, "")
    matches = PhraseMatcher(plan).find(doc).positives.get(LABEL, [])
    return judge(anniversary, published, doc, matches)


def test_inside_the_window_counts_fully_and_says_how_far(plan: Plan) -> None:
    j = judged(plan, "Nhớ Cách mạng Tháng Tám", date(2025, 8, 16))
    assert (j.factor, j.in_window) == (IN_WINDOW, True)
    assert j.reason == "trong cửa sổ kỷ niệm (còn 3 ngày)"
    assert "đúng ngày kỷ niệm" in judged(plan, "Cách mạng Tháng Tám", date(2025, 8, 19)).reason
    assert "đã qua 5 ngày" in judged(plan, "Cách mạng Tháng Tám", date(2025, 8, 24)).reason


@pytest.mark.parametrize(("day", "inside"), [
    (date(2025, 7, 20), True),    # first day of the window (30 days before)
    (date(2025, 7, 19), False),
    (date(2025, 9, 8), True),     # last day (20 days after: the plan pairs it with 2/9)
    (date(2025, 9, 9), False),
])
def test_window_edges(plan: Plan, day: date, inside: bool) -> None:
    assert judged(plan, "Cách mạng Tháng Tám", day).in_window is inside


def test_outside_the_window_is_discounted(plan: Plan) -> None:
    j = judged(plan, "Nhớ Cách mạng Tháng Tám", date(2026, 3, 1))
    assert j.factor == OUTSIDE < IN_WINDOW
    assert "ngoài cửa sổ kỷ niệm" in j.reason


def test_outside_the_window_an_explicit_mention_still_counts(plan: Plan) -> None:
    j = judged(plan, "Hội thảo kỷ niệm 80 năm Cách mạng Tháng Tám thành công",
               date(2026, 3, 1))
    assert j.factor == EXPLICIT_OUTSIDE
    assert "nêu rõ 80 năm" in j.reason


def test_another_round_number_is_another_year(plan: Plan) -> None:
    j = judged(plan, "Kỷ niệm 81 năm Cách mạng Tháng Tám thành công", date(2026, 8, 18))
    assert j.factor == OTHER_YEAR
    assert "81 năm" in j.reason


def test_unknown_date(plan: Plan) -> None:
    assert judged(plan, "Cách mạng Tháng Tám", None).factor == UNKNOWN_DATE


def test_the_local_day_counts_not_utc(plan: Plan) -> None:
    # 2025-07-19 18:00 UTC is 2025-07-20 01:00 in Asia/Ho_Chi_Minh: inside the window
    j = judged(plan, "Cách mạng Tháng Tám", datetime(2025, 7, 19, 18, 0, tzinfo=UTC))
    assert j.in_window is True
