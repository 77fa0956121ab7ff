"""How the publication date weighs the evidence for an anniversary.

Inside the plan's window around the anniversary, evidence counts fully.
Outside it, the same words are usually about another year's commemoration or
just mention the event in passing, so the score is discounted, unless the text
names this anniversary explicitly ("kỷ niệm 50 năm ...", "50 năm Ngày giải
phóng miền Nam"). A text that names another round number for the same event
("81 năm Cách mạng Tháng Tám") is about another year and is discounted hard.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from classifier.matcher import Match
from classifier.normalize import Document
from dophu.config import Anniversary
from dophu.dates import to_local

IN_WINDOW = 1.0
EXPLICIT_OUTSIDE = 0.9
OUTSIDE = 0.4
OTHER_YEAR = 0.15
UNKNOWN_DATE = 1.0

# Words that put a number of years in commemoration sense: "kỷ niệm 50 năm".
_CELEBRATE = ("ki niem", "chao mung", "mung", "tron", "huong toi", "nhan dip")
_N_YEARS = re.compile(r"(?<!\S)(\d{1,3}) nam(?!\S)")
# How far before a phrase match a "N năm" still belongs to it, in tokens.
_NEAR = 8


@dataclass(frozen=True)
class DateJudgement:
    """A factor for the anniversary's score and the reason, in words a person reads."""

    factor: float
    reason: str
    in_window: bool | None


def years_of(anniversary: Anniversary) -> int:
    return anniversary.date.year - anniversary.event_date.year


def local_day(published_at: datetime | date | None) -> date | None:
    if published_at is None:
        return None
    if isinstance(published_at, datetime):
        return to_local(published_at).date()
    return published_at


def year_mentions(doc: Document) -> list[tuple[int, int]]:
    """(token index, N) for each "N năm" in the text."""
    return [(doc.token_at(m.start()), int(m.group(1))) for m in _N_YEARS.finditer(doc.joined)]


def _names_years(doc: Document, numbers: list[tuple[int, int]], matches: Sequence[Match],
                 years: int) -> tuple[bool, int | None]:
    """Whether the text names this round number for the event, and another number it names."""
    if not numbers:
        return years == 50 and "nua the ki" in doc.joined, None
    words = doc.words
    right = False
    other: int | None = None
    for index, value in numbers:
        near_match = any(m.first - _NEAR <= index <= m.last for m in matches)
        celebrated = index > 0 and (
            " ".join(words[max(0, index - 2):index]).endswith(_CELEBRATE))
        if value == years and (near_match or celebrated):
            right = True
        elif near_match and value != years and abs(value - years) <= 5:
            other = value
    if years == 50 and "nua the ki" in doc.joined:
        right = True
    return right, other


def judge(anniversary: Anniversary, published_at: datetime | date | None, doc: Document,
          matches: Sequence[Match] = (), *, day: date | None = None,
          numbers: list[tuple[int, int]] | None = None) -> DateJudgement:
    """The date reasoning for one anniversary on one document.

    ``day`` and ``numbers`` may be passed when judging several anniversaries of
    one document.
    """
    years = years_of(anniversary)
    if numbers is None:
        numbers = year_mentions(doc)
    named, other = _names_years(doc, numbers, matches, years)
    if other is not None and not named:
        return DateJudgement(OTHER_YEAR, f"nói về dịp {other} năm, không phải {years} năm",
                             None)
    if day is None:
        day = local_day(published_at)
    if day is None:
        return DateJudgement(UNKNOWN_DATE, "không rõ ngày đăng", None)
    delta = (anniversary.date - day).days
    if anniversary.in_window(day):
        if delta > 0:
            where = f"còn {delta} ngày"
        elif delta == 0:
            where = "đúng ngày kỷ niệm"
        else:
            where = f"đã qua {-delta} ngày"
        return DateJudgement(IN_WINDOW, f"trong cửa sổ kỷ niệm ({where})", True)
    where = f"trước {delta} ngày" if delta > 0 else f"sau {-delta} ngày"
    if named:
        return DateJudgement(EXPLICIT_OUTSIDE,
                             f"ngoài cửa sổ kỷ niệm ({where}) nhưng nêu rõ {years} năm", False)
    return DateJudgement(OUTSIDE, f"ngoài cửa sổ kỷ niệm ({where}): giảm trọng số", False)
