"""Calendar arithmetic (reports/periods.py) and source health (reports/health.py)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from dophu.config import Source
from dophu.dates import LOCAL_TZ, DateParseError
from dophu.models import SourceState
from reports.health import source_health, unit_status
from reports.periods import (
    Span,
    last_full_week,
    periods_in,
    previous_span,
    trend_span,
    week_span,
    whole_months,
)


@pytest.mark.parametrize(("today", "week"), [
    (date(2025, 5, 5), "2025-W18"),    # Monday: last week is over
    (date(2025, 5, 11), "2025-W18"),   # Sunday: this week is not over yet
    (date(2026, 1, 1), "2025-W52"),    # Thursday of 2026-W01
    (date(2026, 1, 5), "2026-W01"),    # Monday after the ISO week that straddles the years
    (date(2021, 1, 4), "2020-W53"),    # a 53-week year
])
def test_last_full_week(today, week):
    assert last_full_week(today) == week


def test_week_span_and_trend():
    span = week_span("2025-W18")
    assert (span.start, span.end, span.days) == (date(2025, 4, 28), date(2025, 5, 4), 7)
    start, end = span.bounds()
    assert start == datetime(2025, 4, 28, tzinfo=LOCAL_TZ)
    assert end == datetime(2025, 5, 5, tzinfo=LOCAL_TZ)
    assert trend_span(span) == Span(date(2025, 3, 10), date(2025, 5, 4))
    with pytest.raises(DateParseError):
        week_span("2025-W60")


@pytest.mark.parametrize(("span", "previous"), [
    (Span(date(2025, 4, 28), date(2025, 5, 4)), Span(date(2025, 4, 21), date(2025, 4, 27))),
    (Span(date(2025, 3, 1), date(2025, 3, 31)), Span(date(2025, 2, 1), date(2025, 2, 28))),
    (Span(date(2025, 1, 1), date(2025, 3, 31)), Span(date(2024, 10, 1), date(2024, 12, 31))),
    (Span(date(2025, 4, 10), date(2025, 4, 19)), Span(date(2025, 3, 31), date(2025, 4, 9))),
])
def test_previous_span(span, previous):
    assert previous_span(span) == previous


def test_whole_months():
    assert whole_months(Span(date(2024, 2, 1), date(2024, 2, 29))) == 1
    assert whole_months(Span(date(2024, 11, 1), date(2025, 2, 28))) == 4
    assert whole_months(Span(date(2024, 2, 1), date(2024, 2, 28))) == 0


def test_periods_are_clipped_to_the_span():
    span = Span(date(2025, 4, 30), date(2025, 6, 2))
    assert [(p.key, p.start, p.end) for p in periods_in(span, "month")] == [
        ("2025-04", date(2025, 4, 30), date(2025, 4, 30)),
        ("2025-05", date(2025, 5, 1), date(2025, 5, 31)),
        ("2025-06", date(2025, 6, 1), date(2025, 6, 2))]
    weeks = periods_in(span, "week")
    assert weeks[0].key == "2025-W18" and weeks[0].start == date(2025, 4, 30)
    assert weeks[-1].key == "2025-W23" and weeks[-1].end == date(2025, 6, 2)
    assert len(periods_in(span, "day")) == 34
    # an ISO week that straddles two years keeps its ISO key
    assert periods_in(Span(date(2024, 12, 30), date(2025, 1, 5)), "week")[0].key == "2025-W01"


START = datetime(2025, 4, 28, tzinfo=LOCAL_TZ)
SITE = Source(id="s", name="S", unit="u", kind="portal", home="https://s.example.vn/")
EXPORT = Source(id="fb", name="FB", unit="u", kind="social")


def _state(**values) -> SourceState:
    return SourceState(source_id="s", **values)


@pytest.mark.parametrize(("source", "state", "health"), [
    (SITE, None, "not_crawled"),
    (EXPORT, None, "import"),
    (SITE.model_copy(update={"enabled": False}), None, "disabled"),
    (SITE, _state(last_success=datetime(2025, 5, 5, tzinfo=LOCAL_TZ)), "ok"),
    (SITE, _state(last_success=START), "ok"),
    (SITE, _state(last_success=datetime(2025, 4, 30, tzinfo=LOCAL_TZ),
                  consecutive_failures=3), "ok"),
    (SITE, _state(last_success=datetime(2025, 4, 27, 23, 59, tzinfo=LOCAL_TZ),
                  consecutive_failures=3), "failing"),
    (SITE, _state(consecutive_failures=1), "failing"),
    (SITE, _state(last_success=datetime(2025, 4, 1, tzinfo=LOCAL_TZ)), "not_crawled"),
])
def test_source_health(source, state, health):
    assert source_health(source, state, START) == health


@pytest.mark.parametrize(("healths", "status"), [
    ([], "not_monitored"),
    (["disabled"], "not_monitored"),
    (["ok", "import"], "ok"),
    (["ok", "disabled"], "ok"),
    (["failing"], "failing"),
    (["failing", "not_crawled"], "failing"),
    (["not_crawled"], "not_crawled"),
    (["ok", "failing"], "partial"),
    (["import", "not_crawled"], "partial"),
])
def test_unit_status(healths, status):
    assert unit_status(healths) == status
