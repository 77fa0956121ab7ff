"""When the weekly report is due: Monday 07:00 Asia/Ho_Chi_Minh by default, configurable;
a machine that was off over a Monday, or a clock that jumps, gets the missed week once."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dophu.dates import LOCAL_TZ
from dophu.scheduler import Service
from dophu.settings import ServiceSettings
from dophu.weekly_job import due_weeks, last_due_moment, week_reported_at
from tests.service.conftest import ServiceEnv

DEFAULT = ServiceSettings()


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL_TZ)


def test_due_at_monday_seven_local_time() -> None:
    # 2025-05-05 is a Monday; the report is about 2025-W18 (28 April - 4 May)
    assert due_weeks(DEFAULT, local(2025, 5, 5, 6, 59), {"2025-W17"}) == []
    assert due_weeks(DEFAULT, local(2025, 5, 5, 7, 0), {"2025-W17"}) == ["2025-W18"]
    # the same instant seen from UTC (00:00Z is 07:00 in Ho Chi Minh City)
    assert due_weeks(DEFAULT, datetime(2025, 5, 5, 0, 0, tzinfo=UTC), {"2025-W17"}) == [
        "2025-W18"]
    assert due_weeks(DEFAULT, local(2025, 5, 8, 12, 0), {"2025-W17", "2025-W18"}) == []


def test_first_start_writes_only_the_last_full_week() -> None:
    assert due_weeks(DEFAULT, local(2025, 5, 7, 9, 0), set()) == ["2025-W18"]
    # Sunday night: the week is not over, the one before it is the last due
    assert due_weeks(DEFAULT, local(2025, 5, 4, 23, 59), set()) == ["2025-W17"]


def test_machine_off_over_mondays_catches_up_with_a_limit() -> None:
    written = {"2025-W14"}
    # off from W15 to Wednesday of W19: W15..W18 were due and missed
    assert due_weeks(DEFAULT, local(2025, 5, 7, 9, 0), written) == [
        "2025-W15", "2025-W16", "2025-W17", "2025-W18"]
    few = ServiceSettings(report_catch_up_weeks=2)
    assert due_weeks(few, local(2025, 5, 7, 9, 0), written) == ["2025-W17", "2025-W18"]


def test_clock_behind_what_was_done_writes_nothing() -> None:
    assert due_weeks(DEFAULT, local(2025, 4, 1, 9, 0), {"2025-W18"}) == []


def test_configured_day_time_and_zone() -> None:
    settings = ServiceSettings(weekly_report_day="tue", weekly_report_time="18:30",
                               timezone="UTC")
    moment = last_due_moment(settings, datetime(2025, 5, 6, 18, 29, tzinfo=UTC))
    assert moment == datetime(2025, 4, 29, 18, 30, tzinfo=UTC)
    assert week_reported_at(moment) == "2025-W17"
    assert due_weeks(settings, datetime(2025, 5, 6, 18, 30, tzinfo=UTC), {"2025-W17"}) == [
        "2025-W18"]


def test_bad_schedule_settings_are_named() -> None:
    with pytest.raises(ValueError, match="weekly_report_time"):
        ServiceSettings(weekly_report_time="7h")
    with pytest.raises(ValueError, match="weekly_report_day"):
        ServiceSettings(weekly_report_day="caturday")


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _service(env: ServiceEnv, clock: Clock) -> Service:
    service = Service(env.config, env.data, clock=clock)
    service.start_up()
    return service


def test_missed_monday_and_clock_jumps_write_each_week_once(imported_env: ServiceEnv) -> None:
    env = imported_env
    clock = Clock(local(2025, 5, 7, 10, 0))               # Wednesday of W19: W18 is due
    service = _service(env, clock)
    try:
        assert service.run_due().weeks == ["2025-W18"]
        reports = env.data / "reports"
        files = {p.name for p in reports.iterdir()}
        assert files == {f"dophu-2025-W18.{ext}" for ext in ("html", "xlsx", "md", "json")}
        document = json.loads((reports / "dophu-2025-W18.json").read_text(encoding="utf-8"))
        assert document["week"] == "2025-W18" and document["totals"]["items"] > 0
        assert zipfile.is_zipfile(reports / "dophu-2025-W18.xlsx")
        assert service.run_due().weeks == []                # nothing twice
        clock.now = local(2025, 5, 4, 9, 0)                 # the clock jumps back 3 days
        assert service.run_due().weeks == []
        clock.now = local(2025, 5, 21, 8, 0)                # forward over two Mondays
        assert service.run_due().weeks == ["2025-W19", "2025-W20"]
    finally:
        service.close()
    # a restart (the machine was off over the next Monday) writes only what is missing
    clock = Clock(local(2025, 5, 27, 7, 30))
    service = _service(env, clock)
    try:
        assert service.run_due().weeks == ["2025-W21"]
        assert service.run_due().weeks == []
        assert sorted(service.state.weeks_written()) == [
            "2025-W18", "2025-W19", "2025-W20", "2025-W21"]
    finally:
        service.close()


def test_report_time_from_settings_yaml(imported_env: ServiceEnv) -> None:
    env = imported_env
    env.settings(service={"weekly_report_day": "fri", "weekly_report_time": "16:00",
                          "report_formats": ["json", "md"]})
    friday = local(2025, 5, 9, 16, 0)
    clock = Clock(friday - timedelta(minutes=1))
    service = _service(env, clock)
    try:
        # a minute before Friday 16:00 the last report due was last Friday's (about W17)
        assert service.run_due().weeks == ["2025-W17"]
        clock.now = friday
        assert service.run_due().weeks == ["2025-W18"]
        clock.now = local(2025, 5, 16, 15, 59)
        assert service.run_due().weeks == []
        names = sorted(p.name for p in (env.data / "reports").iterdir())
        assert names == ["dophu-2025-W17.json", "dophu-2025-W17.md", "dophu-2025-W18.json",
                         "dophu-2025-W18.md"]
    finally:
        service.close()


def test_reports_dir_not_writable_is_a_clear_failure(imported_env: ServiceEnv,
                                                     tmp_path: Path) -> None:
    env = imported_env
    (env.data / "reports").write_text("a file where the reports dir should be")
    service = _service(env, Clock(local(2025, 5, 7, 10, 0)))
    try:
        result = service.run_due()
        assert result.weeks == []
        assert len(result.failures) == 1 and "2025-W18" in result.failures[0]
        assert "cannot write" in result.failures[0] or "Not a directory" in result.failures[0]
        assert service.state.weeks_written() == set()       # due again next time
    finally:
        service.close()
