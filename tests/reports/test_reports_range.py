"""``build_range``: any period at day, week or month granularity (fixture of conftest.py)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from dophu.dates import LOCAL_TZ
from reports.build import ReportError, build_range, build_weekly

NOW = datetime(2025, 6, 1, 7, 0, tzinfo=LOCAL_TZ)
APRIL = (date(2025, 4, 1), date(2025, 4, 30))


def test_a_month_by_week(store, plan, sources):
    report = build_range(store, plan, sources, *APRIL, granularity="week", now=NOW)
    assert report.kind == "range" and report.week is None
    # g0, b4, c1, c2, n0 and the April days of W18: b3, b5, b6, v1, v2
    assert (report.totals.items, report.totals.relevant, report.totals.untagged) == (10, 6, 1)
    # compared with the whole month before (March: g9)
    assert (report.previous_from, report.previous_to) == (date(2025, 3, 1), date(2025, 3, 31))
    assert (report.totals.previous_items, report.totals.previous_relevant) == (1, 1)
    # the first and last weeks are clipped to the month
    assert [(p.key, p.date_from.day, p.date_to.day) for p in report.periods] == [
        ("2025-W14", 1, 6), ("2025-W15", 7, 13), ("2025-W16", 14, 20), ("2025-W17", 21, 27),
        ("2025-W18", 28, 30)]
    assert [p.items for p in report.periods] == [0, 0, 1, 4, 5]
    assert [p.relevant for p in report.periods] == [0, 0, 1, 3, 2]
    niem = report.themes[0]
    assert (niem.id, niem.items, niem.trend) == ("niem-tin-moi", 4, [0, 0, 0, 3, 1])
    assert report.phase_id == "den-dai-hoi-xiv"


def test_a_month_by_day(store, plan, sources):
    report = build_range(store, plan, sources, *APRIL, granularity="day", now=NOW)
    assert len(report.periods) == 30
    by_day = {p.key: p.items for p in report.periods}
    assert by_day["2025-04-27"] == 1          # b4 at 23:59 local, 16:59 UTC
    assert by_day["2025-04-28"] == 1          # b3 at 00:00 local
    assert by_day["2025-04-30"] == 3
    assert sum(by_day.values()) == report.totals.items == 10


def test_months_compare_with_as_many_months_before(store, plan, sources):
    report = build_range(store, plan, sources, date(2025, 3, 1), date(2025, 5, 31),
                         granularity="month", now=NOW)
    assert [(p.key, p.items) for p in report.periods] == [
        ("2025-03", 1), ("2025-04", 10), ("2025-05", 5)]
    assert (report.previous_from, report.previous_to) == (date(2024, 12, 1), date(2025, 2, 28))
    assert report.totals.previous_items == 0 and report.totals.items_change_pct is None
    # the range spans two phases: the main one is where most of its days are
    assert [p.id for p in report.phases] == ["dau-nam-2025", "den-dai-hoi-xiv"]
    assert report.phase_id == "den-dai-hoi-xiv"


def test_health_is_read_for_the_range(store, plan, sources):
    # canthotv last succeeded on 20/04: fine for April (it published c1, c2, nothing on the
    # other major themes, so those are gaps), failing for W18.
    report = build_range(store, plan, sources, *APRIL, now=NOW)
    unit = report.unit_row("dai-ptth")
    assert unit is not None
    assert (unit.status, unit.items, unit.gaps) == ("ok", 2, ["co-do-40-nam", "ky-nguyen-moi"])


def test_a_week_as_a_range_gives_the_weekly_numbers(store, plan, sources):
    weekly = build_weekly(store, plan, sources, week="2025-W18", now=NOW)
    ranged = build_range(store, plan, sources, date(2025, 4, 28), date(2025, 5, 4),
                         granularity="day", now=NOW)
    assert ranged.totals == weekly.totals
    assert ranged.units == weekly.units
    assert ranged.anniversaries == weekly.anniversaries
    assert ranged.top_items == weekly.top_items
    assert ranged.quality == weekly.quality
    assert [t.model_dump(exclude={"trend"}) for t in ranged.themes] == [
        t.model_dump(exclude={"trend"}) for t in weekly.themes]


def test_anniversaries_of_the_range(store, plan, sources):
    report = build_range(store, plan, sources, *APRIL, now=NOW)
    liberation = report.anniversaries[0]
    assert liberation.id == "giai-phong-mien-nam-50"
    assert (liberation.days_to, liberation.items, liberation.items_in_window) == (29, 1, 1)


def test_range_for_one_unit(store, plan, sources):
    report = build_range(store, plan, sources, *APRIL, unit="dai-ptth", now=NOW)
    assert [u.id for u in report.units] == ["dai-ptth"]
    assert report.totals.items == 2 and report.totals.previous_items == 0


@pytest.mark.parametrize(("first", "last", "granularity", "message"), [
    (date(2025, 5, 1), date(2025, 4, 1), "week", "after --to"),
    (date(2025, 4, 1), date(2025, 4, 30), "year", "--granularity"),
    (date(2020, 1, 1), date(2025, 1, 1), "day", "coarser --granularity"),
])
def test_bad_ranges_are_clear_errors(store, plan, sources, first, last, granularity, message):
    with pytest.raises(ReportError, match=message):
        build_range(store, plan, sources, first, last, granularity=granularity)
