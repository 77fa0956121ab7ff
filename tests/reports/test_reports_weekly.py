"""Every number of the weekly report (JSON form) on the fixture store of conftest.py."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from dophu.dates import LOCAL_TZ
from dophu.models import SourceState
from reports.build import ReportError, build_weekly
from reports.render import render
from store.base import QueryError

NOW = datetime(2025, 5, 5, 7, 0, tzinfo=LOCAL_TZ)
MAJORS = ["niem-tin-moi", "co-do-40-nam", "ky-nguyen-moi"]


@pytest.fixture
def report(store, plan, sources) -> dict:
    built = build_weekly(store, plan, sources, week="2025-W18", now=NOW)
    return json.loads(render(built, "json"))


def _unit(report: dict, unit_id: str) -> dict:
    return next(u for u in report["units"] if u["id"] == unit_id)


def _theme(report: dict, theme_id: str) -> dict:
    return next(t for t in report["themes"] if t["id"] == theme_id)


def test_interface_keys_are_present(report):
    for key in ("week", "from", "to", "timezone", "phase", "totals", "themes",
                "anniversaries", "units", "top_items"):
        assert key in report
    assert set(report["totals"]) >= {"items", "relevant", "previous_items", "previous_relevant"}
    assert set(report["themes"][0]) >= {"id", "name", "major", "items", "previous",
                                        "units_covering"}
    assert set(report["anniversaries"][0]) >= {"id", "name", "date", "days_to", "items",
                                               "items_in_window"}
    assert set(report["units"][0]) >= {"id", "name", "items", "themes", "gaps",
                                       "failing_sources"}
    assert set(report["top_items"]["niem-tin-moi"][0]) >= {"id", "title", "url", "score"}


def test_week_and_phase(report):
    assert report["week"] == "2025-W18"
    assert (report["from"], report["to"]) == ("2025-04-28", "2025-05-04")
    assert (report["previous_from"], report["previous_to"]) == ("2025-04-21", "2025-04-27")
    assert report["timezone"] == "Asia/Ho_Chi_Minh"
    assert report["phase"] == "Đến Đại hội XIV"
    assert report["phase_id"] == "den-dai-hoi-xiv"
    assert report["kind"] == "weekly" and report["granularity"] == "week"


def test_totals_respect_local_week_boundaries(report):
    # W18 holds b1 (Sun 23:30 local = 16:30 UTC) and b3 (Mon 00:00 local) but not b2
    # (Mon 00:30 local of W19) nor b4 (Sun 23:59 local of W17).
    assert report["totals"] == {
        "items": 9, "relevant": 6, "relevant_share": round(6 / 9, 4), "untagged": 1,
        "previous_items": 4, "previous_relevant": 3, "previous_relevant_share": 0.75,
        "items_change": 5, "relevant_change": 3, "items_change_pct": 1.25,
        "relevant_change_pct": 1.0,
    }


def test_boundary_items_in_their_weeks(store, plan, sources):
    w19 = build_weekly(store, plan, sources, week="2025-W19", now=NOW)
    assert w19.totals.items == 1                      # b2 only, Monday 00:30 local
    assert w19.totals.previous_items == 9
    top = w19.top_items["niem-tin-moi"]
    assert [t.id for t in top] == ["b2"]


def test_themes_major_first_with_previous_week_and_units(report):
    assert [t["id"] for t in report["themes"]] == [*MAJORS, "dai-hoi-dang"]
    assert [t["major"] for t in report["themes"]] == [True, True, True, False]
    niem = _theme(report, "niem-tin-moi")
    # b1, n1, v1 this week; b4, c1, c2 the week before
    assert (niem["items"], niem["previous"], niem["change"], niem["change_pct"]) == (3, 3, 0, 0.0)
    # responsible units covering (the reference press does not count), out of the 4
    # responsible units with sources (phuong-an-binh has none)
    assert niem["covering_units"] == ["bao-can-tho", "quan-ninh-kieu"]
    assert (niem["units_covering"], niem["units_total"], niem["units_share"]) == (2, 4, 0.5)
    co_do = _theme(report, "co-do-40-nam")
    assert (co_do["items"], co_do["previous"], co_do["change_pct"]) == (1, 0, None)
    assert co_do["units_covering"] == 1
    ky = _theme(report, "ky-nguyen-moi")
    assert (ky["items"], ky["units_covering"]) == (2, 2)      # b7 and its duplicate n2
    assert _theme(report, "dai-hoi-dang")["items"] == 2


def test_eight_week_trend(report):
    periods = report["periods"]
    assert [p["key"] for p in periods] == [f"2025-W{w}" for w in range(11, 19)]
    assert (periods[0]["from"], periods[-1]["to"]) == ("2025-03-10", "2025-05-04")
    assert [p["items"] for p in periods] == [1, 0, 0, 0, 0, 1, 4, 9]
    assert [p["relevant"] for p in periods] == [1, 0, 0, 0, 0, 1, 3, 6]
    assert _theme(report, "niem-tin-moi")["trend"] == [0, 0, 0, 0, 0, 0, 3, 3]
    assert periods[-1]["themes"] == {"niem-tin-moi": 3, "co-do-40-nam": 1, "ky-nguyen-moi": 2,
                                     "dai-hoi-dang": 2}


def test_unit_with_all_themes_has_no_gap(report):
    unit = _unit(report, "bao-can-tho")
    assert (unit["items"], unit["previous"], unit["relevant"]) == (5, 1, 3)
    assert unit["themes"] == {"niem-tin-moi": 1, "co-do-40-nam": 1, "ky-nguyen-moi": 1,
                              "dai-hoi-dang": 1}
    assert unit["status"] == "ok"
    assert unit["gaps"] == [] and unit["failing_sources"] == [] and not unit["silent"]
    assert unit["sources"][0]["id"] == "baocantho"
    assert (unit["sources"][0]["items"], unit["sources"][0]["health"]) == (5, "ok")


def test_unit_missing_a_major_theme_is_a_gap(report):
    unit = _unit(report, "quan-ninh-kieu")
    assert (unit["items"], unit["previous"], unit["relevant"]) == (2, 1, 2)
    assert unit["gaps"] == ["co-do-40-nam"]
    assert unit["status"] == "ok"          # succeeded during the week, failed once after
    assert unit["sources"][0]["consecutive_failures"] == 1


def test_failing_source_is_not_a_gap(report):
    unit = _unit(report, "dai-ptth")
    assert (unit["items"], unit["previous"]) == (0, 2)
    assert unit["status"] == "failing"
    assert unit["failing_sources"] == ["canthotv"]
    assert unit["gaps"] == []
    assert unit["unverified_gaps"] == MAJORS
    assert unit["silent"] is False
    source = unit["sources"][0]
    assert (source["health"], source["last_error"], source["consecutive_failures"]) == (
        "failing", "HTTP 503", 4)
    assert source["last_success"] == "2025-04-20T06:00:00+07:00"


def test_silent_unit_with_healthy_sources(report):
    unit = _unit(report, "hoi-lhpn")
    assert unit["sources"][0]["health"] == "import"
    assert (unit["status"], unit["items"], unit["silent"]) == ("ok", 0, True)
    assert unit["gaps"] == MAJORS


def test_unmonitored_and_reference_units_are_never_gaps(report):
    unmonitored = _unit(report, "phuong-an-binh")
    assert (unmonitored["status"], unmonitored["gaps"], unmonitored["sources"]) == (
        "not_monitored", [], [])
    reference = _unit(report, "bao-chi-trung-uong")
    assert reference["responsible"] is False
    assert (reference["items"], reference["relevant"]) == (2, 1)
    assert reference["gaps"] == [] and reference["unverified_gaps"] == []
    assert reference["silent"] is False


def test_recovered_source_turns_silence_into_gaps(store, plan, sources):
    # canthotv succeeded during W18 (and published nothing): now a real gap.
    store.put_source_state(SourceState(
        source_id="canthotv", last_success=datetime(2025, 5, 2, 6, 0, tzinfo=LOCAL_TZ)))
    unit = build_weekly(store, plan, sources, week="2025-W18", now=NOW).unit_row("dai-ptth")
    assert unit is not None
    assert (unit.status, unit.gaps, unit.failing_sources, unit.silent) == ("ok", MAJORS, [], True)


def test_never_crawled_source_is_not_a_gap(store, plan, sources):
    # Before the first crawl there is no state at all: silence cannot be asserted.
    report = build_weekly(store, plan, sources, week="2025-W18", now=NOW)
    states = {s.id: s for s in report.unit_row("quan-ninh-kieu").sources}  # type: ignore[union-attr]
    assert states["ninhkieu-portal"].health == "ok"
    extra = [*sources]
    from dophu.config import Source

    extra.append(Source(id="ninhkieu-new", name="Trang mới", unit="quan-ninh-kieu",
                        kind="portal", home="https://new.example.vn/"))
    unit = build_weekly(store, plan, extra, week="2025-W18", now=NOW).unit_row("quan-ninh-kieu")
    assert unit is not None
    assert unit.status == "partial"
    assert unit.gaps == [] and unit.unverified_gaps == ["co-do-40-nam"]
    assert [s.health for s in unit.sources] == ["ok", "not_crawled"]


def test_anniversaries_in_the_week(report):
    ids = [a["id"] for a in report["anniversaries"]]
    assert ids == ["giai-phong-mien-nam-50", "sinh-nhat-bac-135"]   # quoc-khanh-80 is far
    liberation = report["anniversaries"][0]
    assert liberation["date"] == "2025-04-30"
    assert (liberation["window_from"], liberation["window_to"]) == ("2025-03-16", "2025-05-10")
    assert liberation["days_to"] == 2
    # b1 this week; b1 and g0 since the window opened (g9 on 10/03 is before it)
    assert (liberation["items"], liberation["items_in_window"]) == (1, 2)
    assert liberation["units"] == [{"unit": "bao-can-tho", "name": "Báo Cần Thơ", "items": 1,
                                    "items_in_window": 2}]
    birthday = report["anniversaries"][1]
    assert (birthday["days_to"], birthday["items"], birthday["items_in_window"]) == (21, 0, 0)
    assert birthday["units"] == []


def test_top_items_by_score_without_duplicates(report):
    top = report["top_items"]
    assert [t["id"] for t in top["niem-tin-moi"]] == ["v1", "b1", "n1"]
    assert [t["score"] for t in top["niem-tin-moi"]] == [0.99, 0.9, 0.65]
    first = top["niem-tin-moi"][1]
    assert first["unit"] == "bao-can-tho" and first["unit_name"] == "Báo Cần Thơ"
    assert first["url"] == "https://example.vn/b1"
    assert first["published_at"] == "2025-05-04T23:30:00+07:00"       # local time
    assert [t["id"] for t in top["ky-nguyen-moi"]] == ["b7"]        # n2 is b7's duplicate
    assert top["co-do-40-nam"][0]["id"] == "b3"
    assert list(top) == [*MAJORS, "dai-hoi-dang"]


def test_top_items_limit_keeps_the_best(store, plan, sources):
    report = build_weekly(store, plan, sources, week="2025-W18", now=NOW, top_n=2)
    assert [t.id for t in report.top_items["niem-tin-moi"]] == ["v1", "b1"]


def test_quality_notes(report):
    assert report["quality"] == {
        "low_confidence_threshold": 0.6,
        "tags": 9,                    # b1 2, b3 1, b7 2, n1 1, n2 2, v1 1
        "low_confidence_tags": 3,     # b3 0.5, b7 and n2 dai-hoi-dang 0.55
        "tagged_items": 6,
        "low_confidence_items": 1,    # b3: its only tag is weak
        "untagged_items": 1,
        "feedback": 4,                # two feedbacks fall just outside the week
        "corrections": 2,
        "confirmations": 2,           # a confirm and a dismiss
        "corrected_items": 2,
        "corrections_by_label": {"co-do-40-nam": 1, "ky-nguyen-moi": 1},
    }


def test_highlights_say_it_in_vietnamese(report):
    text = "\n".join(report["highlights"])
    assert "Tuần này thu thập 9 tin bài (tuần trước 4, +5)" in text
    assert "6 tin bài thuộc phạm vi kế hoạch (66,7%" in text
    assert "Quận ủy Ninh Kiều (thiếu: Cơ đồ)" in text
    assert "không đăng tin bài nào tuần này: Hội Liên hiệp Phụ nữ" in text
    assert "Đài PT-TH Cần Thơ (nguồn lỗi: canthotv)" in text
    assert "Báo chí trung ương" not in text
    assert "50 năm giải phóng miền Nam (30/04/2025, thứ Tư tuần này): " \
           "1 tin bài tuần này, 2 tin bài từ đầu đợt" in text
    assert "135 năm Ngày sinh Bác (19/05/2025, còn 21 ngày)" in text


def test_unit_report_is_restricted(store, plan, sources):
    report = json.loads(render(build_weekly(store, plan, sources, week="2025-W18",
                                            unit="bao-can-tho", now=NOW), "json"))
    assert report["unit"] == "bao-can-tho" and report["unit_name"] == "Báo Cần Thơ"
    assert [u["id"] for u in report["units"]] == ["bao-can-tho"]
    assert report["totals"]["items"] == 5 and report["totals"]["relevant"] == 3
    assert report["totals"]["previous_items"] == 1
    niem = _theme(report, "niem-tin-moi")
    assert (niem["items"], niem["units_covering"], niem["units_total"]) == (1, 1, 1)
    assert [t["id"] for t in report["top_items"]["niem-tin-moi"]] == ["b1"]
    assert report["anniversaries"][0]["items_in_window"] == 2
    assert report["quality"]["feedback"] == 3 and report["quality"]["corrections"] == 1
    assert "Báo Cần Thơ đã có tin bài về tất cả các chủ đề lớn tuần này." in report["highlights"]


def test_unit_report_keeps_its_duplicates(store, plan, sources):
    report = build_weekly(store, plan, sources, week="2025-W18", unit="quan-ninh-kieu", now=NOW)
    assert [t.id for t in report.top_items["ky-nguyen-moi"]] == ["n2"]
    assert report.totals.items == 2


def test_empty_week_is_a_report_not_a_crash(store, plan, sources):
    built = build_weekly(store, plan, sources, week="2025-W30", now=NOW)
    report = json.loads(render(built, "json"))
    assert report["totals"]["items"] == 0 and report["totals"]["relevant_share"] is None
    assert report["totals"]["items_change_pct"] is None
    assert report["highlights"][0].startswith("Không thu thập được tin bài nào trong tuần này")
    assert all(t["items"] == 0 for t in report["themes"])
    assert all(not v for v in report["top_items"].values())
    # W30 (21/07 – 27/07) overlaps the window of 2/9 (from 24/07): listed, with nothing yet
    assert [(a["id"], a["days_to"], a["items"], a["items_in_window"])
            for a in report["anniversaries"]] == [("quoc-khanh-80", 43, 0, 0)]
    for fmt in ("html", "xlsx", "md"):
        assert render(built, fmt)


def test_empty_store_without_any_state(empty_store, plan, sources):
    report = build_weekly(empty_store, plan, sources, week="2025-W18", now=NOW)
    assert report.totals.items == 0 and report.quality.feedback == 0
    statuses = {u.id: u.status for u in report.units}
    assert statuses["bao-can-tho"] == "not_crawled"
    assert statuses["hoi-lhpn"] == "ok"          # import-only: nothing to crawl
    assert all(not u.gaps for u in report.units if u.status != "ok")
    assert render(report, "html").startswith(b"<!doctype html>")


def test_default_week_is_the_last_full_week(store, plan, sources):
    # Monday 05/05 and Sunday 11/05: W19 is not over yet either day, so W18.
    for today in (date(2025, 5, 5), date(2025, 5, 11)):
        assert build_weekly(store, plan, sources, today=today, now=NOW).week == "2025-W18"
    assert build_weekly(store, plan, sources, today=date(2025, 5, 12), now=NOW).week == "2025-W19"


def test_week_written_loosely_is_normalised(store, plan, sources):
    assert build_weekly(store, plan, sources, week="2025W18", now=NOW).week == "2025-W18"


@pytest.mark.parametrize("week", ["2025-18", "2025-W54", "tuần 18", ""])
def test_bad_week_is_a_clear_error(store, plan, sources, week):
    with pytest.raises(ReportError, match="--week"):
        build_weekly(store, plan, sources, week=week or "x")


def test_unknown_unit_is_a_clear_error(store, plan, sources):
    with pytest.raises(ReportError, match="unknown unit 'nope'") as caught:
        build_weekly(store, plan, sources, week="2025-W18", unit="nope")
    assert isinstance(caught.value, QueryError)      # the API maps it to a 4xx


def test_report_does_not_change_the_store(store, plan, sources):
    before = [i.model_dump() for i in store.iter_items()]
    states = store.list_source_states()
    build_weekly(store, plan, sources, week="2025-W18", now=NOW)
    assert [i.model_dump() for i in store.iter_items()] == before
    assert store.list_source_states() == states


def test_top_items_found_beyond_one_search_page(store, plan, sources):
    # 230 items on one theme: more than a search page (200). The five best are the oldest,
    # so a newest-first page would miss them; the score ladder must not.
    from tests.reports.reports_fixture import item

    many = [item(f"m{i:03d}", "ninhkieu-portal", "quan-ninh-kieu",
                 f"2025-05-03T{8 + i // 60:02d}:{i % 60:02d}:00+07:00",
                 themes={"dai-hoi-dang": 0.5}, kind="portal") for i in range(225)]
    best = [item(f"t{i}", "ninhkieu-portal", "quan-ninh-kieu",
                 f"2025-04-28T0{i}:00:00+07:00", themes={"dai-hoi-dang": 0.9 + i / 100},
                 kind="portal") for i in range(5)]
    store.upsert(many + best)
    report = build_weekly(store, plan, sources, week="2025-W18", now=NOW)
    assert [t.id for t in report.top_items["dai-hoi-dang"]] == ["t4", "t3", "t2", "t1", "t0"]
    assert report.themes[3].items == 232
