"""Dates as pages and feeds write them: ISO in metadata, RFC 822 in RSS, Vietnamese in text.

A value without a zone is Asia/Ho_Chi_Minh (``dophu.dates``). Nothing here
raises: a page with an unreadable date still yields an item, dated by the
next best evidence.
"""

from __future__ import annotations

import calendar
import re
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from dophu.dates import LOCAL_TZ, parse_vietnamese_datetime, to_local

_ISO_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_SPACE_BEFORE_ZONE = re.compile(r"\s+(?=[+-]\d{2}:?\d{2}$|Z$)")
_COMPACT_ZONE = re.compile(r"([+-]\d{2})(\d{2})$")
_FRACTION = re.compile(r"(\.\d+)(?=[+-]\d{2}:\d{2}$|Z$|$)")


def parse_iso(text: str) -> datetime | None:
    """ISO 8601 as sites write it ("…08:52:11.000 +07:00", "…+0700", "…Z")."""
    value = text.strip()
    if not _ISO_LIKE.match(value):
        return None
    value = _SPACE_BEFORE_ZONE.sub("", value)
    value = value.replace("Z", "+00:00") if value.endswith("Z") else value
    value = _COMPACT_ZONE.sub(r"\1:\2", value)
    value = _FRACTION.sub("", value)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return to_local(parsed) if parsed.tzinfo is None else parsed


def parse_any_datetime(value: object) -> datetime | None:
    """ISO, RFC 822 or a Vietnamese form → aware datetime; None when it is none of them."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return to_local(value) if value.tzinfo is None else value
    if isinstance(value, time.struct_time):
        return datetime.fromtimestamp(calendar.timegm(value), UTC)
    text = " ".join(str(value).split())
    if not text:
        return None
    parsed = parse_iso(text)
    if parsed is not None:
        return parsed
    if re.match(r"^[A-Za-z]{3},?\s+\d", text) or re.search(r"\d{1,2}\s+[A-Za-z]{3}\s+\d{4}",
                                                          text):
        try:
            rfc = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            rfc = None
        if rfc is not None:
            return rfc if rfc.tzinfo is not None else rfc.replace(tzinfo=LOCAL_TZ)
    return parse_vietnamese_datetime(text)


def plausible(moment: datetime | None, now: datetime | None = None) -> datetime | None:
    """Drop dates that cannot be a publication time (before the web, or in the future)."""
    if moment is None:
        return None
    now = now or datetime.now(UTC)
    if moment.year < 1995 or (moment - now).total_seconds() > 2 * 86400:
        return None
    return moment
