"""The weekly report job: which weeks are due, and writing them (each file atomically).

The report for the last full week is due at the configured weekday and time
(Monday 07:00 Asia/Ho_Chi_Minh by default). Due weeks are worked out from the clock
and the weeks already written (``ServiceState``), never from "did the timer fire":
a machine that was off over a Monday, or a clock that jumped, gets the missed week
on the next check, and a week is never written twice.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from dophu.dates import iso_week_key, parse_iso_week
from dophu.files import write_atomic
from dophu.settings import WEEKDAYS, ServiceSettings

log = logging.getLogger("dophu.reports")

REPORTS_DIRNAME = "reports"


def last_due_moment(settings: ServiceSettings, now: datetime) -> datetime:
    """The latest report time (weekday + time, in the configured zone) at or before ``now``."""
    zone = ZoneInfo(settings.timezone)
    local = now.astimezone(zone)
    hour, minute = (int(x) for x in settings.weekly_report_time.split(":"))
    weekday = WEEKDAYS.index(settings.weekly_report_day)
    day = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
    moment = datetime.combine(day, time(hour, minute), tzinfo=zone)
    if moment > local:
        moment -= timedelta(days=7)
    return moment


def week_reported_at(moment: datetime) -> str:
    """The week a report written at ``moment`` is about: the last one fully ended."""
    day = moment.date()
    monday = day - timedelta(days=day.weekday())
    return iso_week_key(monday - timedelta(days=7))


def _next_week(week: str) -> str:
    monday, _ = parse_iso_week(week)
    return iso_week_key(monday + timedelta(days=7))


def due_weeks(settings: ServiceSettings, now: datetime, written: set[str]) -> list[str]:
    """Weeks whose report is due and not written, oldest first: the latest due one, and
    those missed since the last one written (at most ``report_catch_up_weeks``)."""
    target = week_reported_at(last_due_moment(settings, now))
    if target in written or any(w > target for w in written):
        return []           # done, or the clock is behind what was done: wait for it
    earlier = sorted(w for w in written if w < target)
    if not earlier:
        return [target]
    weeks = []
    week = _next_week(earlier[-1])
    while week <= target:
        if week not in written:
            weeks.append(week)
        week = _next_week(week)
    return weeks[-settings.report_catch_up_weeks:]


def next_due_moment(settings: ServiceSettings, now: datetime) -> datetime:
    return last_due_moment(settings, now) + timedelta(days=7)


def report_path(out_dir: Path, week: str, fmt: str) -> Path:
    from reports.render import EXTENSIONS

    return out_dir / f"dophu-{week}{EXTENSIONS[fmt]}"


def write_weekly_reports(store: object, plan: object, sources: list, week: str,
                         formats: list[str], out_dir: Path, *,
                         today: date | None = None) -> dict[str, Path]:
    """Builds the week's report once and writes it in every format (temp file + rename)."""
    from reports.build import build_weekly

    report = build_weekly(store, plan, sources, week=week, today=today)  # type: ignore[arg-type]
    return write_report_files(report, week, formats, out_dir)


def write_report_files(report: object, week: str, formats: list[str], out_dir: Path
                       ) -> dict[str, Path]:
    """One built report in each format; each file appears whole or not at all."""
    from reports.render import render

    written: dict[str, Path] = {}
    for fmt in formats:
        path = report_path(out_dir, week, fmt)
        log.info("writing the weekly report %s (%s)", week, fmt,
                 extra={"week": week, "format": fmt, "path": str(path)})
        data = render(report, fmt)  # type: ignore[arg-type]
        written[fmt] = write_atomic(path, data)
    return written


__all__ = ["REPORTS_DIRNAME", "due_weeks", "last_due_moment", "next_due_moment",
           "report_path", "week_reported_at", "write_report_files", "write_weekly_reports"]
