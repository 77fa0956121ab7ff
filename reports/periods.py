"""Calendar arithmetic for reports: ISO weeks, months, days and the period before.

Every boundary is a local calendar day in Asia/Ho_Chi_Minh (the store's date
filters and coverage periods use the same local days), so an item published
Sunday 23:30 local time belongs to that week and Monday 00:30 to the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from dophu.dates import iso_week_key, local_day_bounds, month_key, now_local, parse_iso_week

Granularity = Literal["day", "week", "month"]
GRANULARITIES: tuple[str, ...] = ("day", "week", "month")
TREND_WEEKS = 8


@dataclass(frozen=True)
class Span:
    """Local calendar days ``start``..``end``, both inclusive."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self) -> tuple[datetime, datetime]:
        """[start 00:00, end+1 00:00) in Asia/Ho_Chi_Minh."""
        return local_day_bounds(self.start, self.end)

    def overlaps(self, start: date, end: date) -> bool:
        return start <= self.end and end >= self.start

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class Period:
    """One bucket of a time series: its store key ("2025-W18") and its days within a span."""

    key: str
    start: date
    end: date


def week_span(week: str) -> Span:
    """"2025-W18" → Monday..Sunday (raises DateParseError on a malformed week)."""
    monday, sunday = parse_iso_week(week)
    return Span(monday, sunday)


def last_full_week(today: date | None = None) -> str:
    """The last ISO week that has fully ended before ``today`` (local)."""
    today = today or now_local().date()
    monday_this_week = today - timedelta(days=today.weekday())
    return iso_week_key(monday_this_week - timedelta(days=7))


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def whole_months(span: Span) -> int:
    """How many whole calendar months ``span`` is (0 if it is not whole months)."""
    if span.start != _month_start(span.start) or span.end != _month_end(span.end):
        return 0
    return (span.end.year - span.start.year) * 12 + span.end.month - span.start.month + 1


def previous_span(span: Span) -> Span:
    """The period to compare with: the same number of whole months before a span of whole
    months, else the same number of days just before (a week → the week before)."""
    months = whole_months(span)
    if months:
        start = _add_months(span.start, -months)
        return Span(start, span.start - timedelta(days=1))
    return Span(span.start - timedelta(days=span.days), span.start - timedelta(days=1))


def period_key(day: date, granularity: Granularity) -> str:
    """The store's coverage period key of a local day."""
    if granularity == "day":
        return day.isoformat()
    if granularity == "week":
        return iso_week_key(day)
    return month_key(day)


def periods_in(span: Span, granularity: Granularity) -> list[Period]:
    """The buckets covering ``span``, each clipped to it (a range starting on a Wednesday
    has a first week of five days)."""
    out: list[Period] = []
    cursor = span.start
    while cursor <= span.end:
        if granularity == "day":
            bucket_end = cursor
        elif granularity == "week":
            bucket_end = cursor + timedelta(days=6 - cursor.weekday())
        else:
            bucket_end = _month_end(cursor)
        end = min(bucket_end, span.end)
        out.append(Period(period_key(cursor, granularity), cursor, end))
        cursor = end + timedelta(days=1)
    return out


def trend_span(week: Span, weeks: int = TREND_WEEKS) -> Span:
    """The ``weeks`` ISO weeks ending with ``week`` (the weekly report's trend)."""
    return Span(week.start - timedelta(days=7 * (weeks - 1)), week.end)
