"""Query parameters → store queries, checked against the plan and the sources.

An unknown theme, anniversary, unit or source id, a malformed date, or a page
beyond the configured size is answered with 422 and a message naming the
parameter, in FastAPI's usual ``{"detail": [{"loc", "msg", "type"}]}`` shape;
never with a 500. The web pages read the same parameters (empty form fields
mean "no filter") and build their store queries through the same functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fastapi.exceptions import RequestValidationError

from api.state import AppState
from dophu.dates import DateParseError, parse_date
from store.base import DIMENSIONS, MAX_QUERY_CHARS, CoverageQuery, SearchQuery

KINDS = ("newspaper", "broadcaster", "portal", "organization", "social")
SORTS = ("relevance", "date", "date_asc")
INTERVALS = ("day", "week", "month")
GRANULARITIES = ("day", "week", "month")
FORMATS = ("json", "html", "xlsx", "md")
MAX_FILTER_VALUES = 50
MAX_PAGE = 10_000
FIRST_YEAR, LAST_YEAR = 1990, 2100
ID_KINDS = {"theme": "chủ đề / theme", "anniversary": "ngày kỷ niệm / anniversary",
            "unit": "đơn vị / unit", "source": "nguồn / source"}


def bilingual(vietnamese: str, english: str) -> str:
    """One description for the OpenAPI schema: Vietnamese first, then English."""
    return f"{vietnamese} / {english}"


def invalid(param: str, message: str, value: Any = None, where: str = "query"
            ) -> RequestValidationError:
    """A 422 naming the parameter (raised, then rendered by api.errors)."""
    shown = value if not isinstance(value, str) else value[:200]
    return RequestValidationError([{"type": "value_error", "loc": (where, param),
                                    "msg": message, "input": shown}])


def check_ids(state: AppState, kind: str, values: Iterable[str] | None, param: str
              ) -> list[str]:
    """The values, each a known id of ``kind`` (duplicates dropped, order kept)."""
    given = list(values or [])
    if len(given) > MAX_FILTER_VALUES:
        raise invalid(param, f"at most {MAX_FILTER_VALUES} values", len(given))
    chosen = list(dict.fromkeys(v.strip() for v in given if v and v.strip()))
    known = state.known_ids(kind)
    known_set = set(known)
    for value in chosen:
        if value not in known_set:
            listing = ", ".join(known[:12]) + (", …" if len(known) > 12 else "")
            raise invalid(param, f"unknown {ID_KINDS[kind]} id {value[:80]!r} "
                                 f"(known: {listing}; see /api/plan, /api/sources)", value)
    return chosen


def check_kinds(values: Iterable[str] | None, param: str = "kind") -> list[str]:
    given = list(values or [])
    if len(given) > MAX_FILTER_VALUES:
        raise invalid(param, f"at most {MAX_FILTER_VALUES} values", len(given))
    chosen = list(dict.fromkeys(v.strip() for v in given if v and v.strip()))
    for value in chosen:
        if value not in KINDS:
            raise invalid(param, f"unknown kind {value[:80]!r} (one of {', '.join(KINDS)})",
                          value)
    return chosen


def check_day(value: date | None, param: str) -> date | None:
    if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise invalid(param, f"date {value.isoformat()} is outside {FIRST_YEAR}–{LAST_YEAR}",
                      value.isoformat())
    return value


def parse_day(text: str | None, param: str) -> date | None:
    """A day typed in a form: ISO (2025-04-30) or Vietnamese (30/4/2025); empty → None."""
    if text is None or not text.strip():
        return None
    try:
        return check_day(parse_date(text.strip()[:40]), param)
    except DateParseError as exc:
        raise invalid(param, f"{exc} (use YYYY-MM-DD)", text) from None


def check_period(date_from: date | None, date_to: date | None) -> None:
    if date_from and date_to and date_from > date_to:
        raise invalid("from", f"'from' ({date_from.isoformat()}) is after 'to' "
                              f"({date_to.isoformat()})", date_from.isoformat())


def parse_bool(text: str | None, param: str) -> bool | None:
    if text is None or not text.strip():
        return None
    value = text.strip().lower()
    if value in ("true", "1", "yes", "on", "co", "có"):
        return True
    if value in ("false", "0", "no", "off", "khong", "không"):
        return False
    raise invalid(param, "not true/false", text)


def parse_int(text: str | None, param: str, default: int, low: int, high: int) -> int:
    if text is None or not text.strip():
        return default
    try:
        value = int(text.strip())
    except ValueError:
        raise invalid(param, "not a whole number", text) from None
    if not low <= value <= high:
        raise invalid(param, f"must be between {low} and {high}", value)
    return value


def check_size(state: AppState, size: int, param: str = "size") -> int:
    if size > state.max_page_size:
        raise invalid(param, f"at most {state.max_page_size} items per page", size)
    return size


@dataclass
class Filters:
    """The filters of a search or coverage request, already checked."""

    themes: list[str] = field(default_factory=list)
    anniversaries: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    date_from: date | None = None
    date_to: date | None = None
    relevant: bool | None = None
    min_score: float = 0.0
    include_duplicates: bool = True

    def store_filters(self) -> dict[str, Any]:
        return {"themes": self.themes, "anniversaries": self.anniversaries,
                "sources": self.sources, "units": self.units, "kinds": self.kinds,
                "date_from": self.date_from, "date_to": self.date_to,
                "relevant": self.relevant, "min_score": self.min_score,
                "include_duplicates": self.include_duplicates}

    @property
    def active(self) -> bool:
        return bool(self.themes or self.anniversaries or self.sources or self.units
                    or self.kinds or self.date_from or self.date_to
                    or self.relevant is not None)


def checked_filters(state: AppState, *, themes: list[str] | None = None,
                    anniversaries: list[str] | None = None, sources: list[str] | None = None,
                    units: list[str] | None = None, kinds: list[str] | None = None,
                    date_from: date | None = None, date_to: date | None = None,
                    relevant: bool | None = None, min_score: float = 0.0,
                    include_duplicates: bool = True) -> Filters:
    filters = Filters(
        themes=check_ids(state, "theme", themes, "theme"),
        anniversaries=check_ids(state, "anniversary", anniversaries, "anniversary"),
        sources=check_ids(state, "source", sources, "source"),
        units=check_ids(state, "unit", units, "unit"),
        kinds=check_kinds(kinds),
        date_from=check_day(date_from, "from"), date_to=check_day(date_to, "to"),
        relevant=relevant, min_score=min_score, include_duplicates=include_duplicates)
    check_period(filters.date_from, filters.date_to)
    return filters


def check_text(q: str | None) -> str | None:
    if q is None:
        return None
    if len(q) > MAX_QUERY_CHARS:
        raise invalid("q", f"at most {MAX_QUERY_CHARS} characters", len(q))
    return q.strip() or None


def search_query(filters: Filters, q: str | None, sort: str, page: int, size: int
                 ) -> SearchQuery:
    if sort not in SORTS:
        raise invalid("sort", f"unknown sort {sort[:40]!r} (one of {', '.join(SORTS)})", sort)
    return SearchQuery(text=check_text(q), sort=sort, page=page, size=size,
                       **filters.store_filters())


def coverage_query(filters: Filters, group_by: list[str], interval: str | None
                   ) -> CoverageQuery:
    dims = list(dict.fromkeys(group_by))
    for dim in dims:
        if dim not in DIMENSIONS:
            raise invalid("group_by", f"unknown dimension {dim[:40]!r} "
                                      f"(one of {', '.join(DIMENSIONS)})", dim)
    if interval is not None and interval not in INTERVALS:
        raise invalid("interval", f"one of {', '.join(INTERVALS)}", interval)
    return CoverageQuery(group_by=dims, interval=interval, **filters.store_filters())


def page_filters(state: AppState, params: Mapping[str, Any]) -> Filters:
    """The filters of a web page's query string (``QueryParams``): empty fields are ignored."""
    getlist = params.getlist  # type: ignore[attr-defined]
    return checked_filters(
        state, themes=getlist("theme"), anniversaries=getlist("anniversary"),
        sources=getlist("source"), units=getlist("unit"), kinds=getlist("kind"),
        date_from=parse_day(params.get("from"), "from"), date_to=parse_day(params.get("to"), "to"),
        relevant=parse_bool(params.get("relevant"), "relevant"))
