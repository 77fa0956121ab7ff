"""Dates as people in Vietnam write them, and the local calendar (ISO weeks).

Times are kept aware; a naive time is taken to be Asia/Ho_Chi_Minh, the zone
every person reading dophu lives in.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

_ISO_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$")
# "Thứ Hai, 28/04/2025 - 08:15", "28-4-2025", "08:15 ngày 28/4/2025", "28/4/2025 8h15"
_VN_DATE = re.compile(r"(?<!\d)(\d{1,2})[/\-.](\d{1,2})[/\-.](\d{4})(?!\d)")
_VN_TIME = re.compile(r"(?<!\d)(\d{1,2})\s*(?:[:h]|giờ)\s*(\d{2})(?!\d)")
_VN_WORDS = re.compile(
    r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})", re.IGNORECASE
)


class DateParseError(ValueError):
    """A value that should be a date or time is not one."""


def to_local(value: datetime) -> datetime:
    """The same instant in Asia/Ho_Chi_Minh (a naive value is taken as local)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=LOCAL_TZ)
    return value.astimezone(LOCAL_TZ)


def parse_datetime(value: str | datetime | date | None) -> datetime | None:
    """ISO 8601 or a Vietnamese form → an aware datetime (None for empty input)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return to_local(value) if value.tzinfo is None else value
    if isinstance(value, date):
        return datetime.combine(value, time(0, 0), LOCAL_TZ)
    text = str(value).strip()
    iso = text.replace("Z", "+00:00") if text.endswith("Z") else text
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        parsed = parse_vietnamese_datetime(text)
        if parsed is None:
            raise DateParseError(f"not a date: {text[:60]!r}") from None
        return parsed
    return to_local(parsed) if parsed.tzinfo is None else parsed


def parse_vietnamese_datetime(text: str) -> datetime | None:
    """Find a day-first date (and a time near it) in Vietnamese page text."""
    match = _VN_DATE.search(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
    else:
        words = _VN_WORDS.search(text)
        if not words:
            return None
        day, month, year = (int(g) for g in words.groups())
    try:
        day_value = date(year, month, day)
    except ValueError:
        return None
    hour = minute = 0
    clock = _VN_TIME.search(text)
    if clock:
        h, m = int(clock.group(1)), int(clock.group(2))
        if h < 24 and m < 60:
            hour, minute = h, m
    return datetime.combine(day_value, time(hour, minute), LOCAL_TZ)


def parse_date(value: str | date) -> date:
    """A calendar date from ISO (2025-04-30) or Vietnamese (30/4/2025) text."""
    if isinstance(value, datetime):
        return to_local(value).date()
    if isinstance(value, date):
        return value
    text = value.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        parsed = parse_vietnamese_datetime(text)
        if parsed is None:
            raise DateParseError(f"not a date: {text[:60]!r}") from None
        return parsed.date()


def iso_week_key(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def month_key(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


def parse_iso_week(value: str) -> tuple[date, date]:
    """"2025-W18" → (Monday, Sunday) of that ISO week."""
    match = _ISO_WEEK.match(value.strip())
    if not match:
        raise DateParseError(f"not an ISO week (YYYY-Www): {value!r}")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError as exc:
        raise DateParseError(f"not an ISO week: {value!r} ({exc})") from None
    return monday, monday + timedelta(days=6)


def local_day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[first 00:00, last+1 00:00) in Asia/Ho_Chi_Minh, as aware datetimes."""
    start = datetime.combine(first, time(0, 0), LOCAL_TZ)
    end = datetime.combine(last + timedelta(days=1), time(0, 0), LOCAL_TZ)
    return start, end


def now_local() -> datetime:
    return datetime.now(LOCAL_TZ)
