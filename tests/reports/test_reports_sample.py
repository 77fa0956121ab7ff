"""The sample generator (reports/sample.py): its scenario shows in the report, its files open."""

from __future__ import annotations

import io
import json

import openpyxl

from reports.labels import fmt_int
from reports.model import Report
from reports.sample import main
from tests.reports.reports_fixture import REPO


def test_sample_scenario_is_visible(sample_reports):
    weekly = sample_reports["weekly"]
    assert weekly.week == "2025-W18" and weekly.totals.items > 200
    broadcaster = weekly.unit_row("dai-ptth-can-tho")
    assert broadcaster is not None
    assert broadcaster.status == "failing" and broadcaster.failing_sources == ["canthotv"]
    assert broadcaster.gaps == []
    silent = weekly.unit_row("quan-cai-rang")
    assert silent is not None and silent.silent and silent.items == 0
    education = weekly.unit_row("so-gddt")
    assert education is not None
    assert education.gaps == ["niem-tin-moi", "co-do-40-nam", "ky-nguyen-moi"]
    reference = weekly.unit_row("bao-chi-trung-uong")
    assert reference is not None and not reference.responsible and reference.gaps == []
    assert weekly.anniversaries[0].id == "giai-phong-mien-nam-50"
    assert weekly.anniversaries[0].days_to == 2 and weekly.anniversaries[0].items > 0
    assert weekly.quality.corrections > 0
    assert sample_reports["month"].kind == "range"
    assert [u.id for u in sample_reports["unit"].units] == ["bao-can-tho"]


def test_sample_command_writes_every_format(tmp_path):
    assert main(["--out", str(tmp_path), "--config", str(REPO / "config")]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted([
        "dophu-2025-W18.html", "dophu-2025-W18.xlsx", "dophu-2025-W18.md",
        "dophu-2025-W18.json", "dophu-2025-04-01_2025-04-30.html",
        "dophu-2025-04-01_2025-04-30.json", "dophu-2025-W18-bao-can-tho.html",
        "dophu-2025-W18-bao-can-tho.json"])
    report = Report.model_validate(json.loads((tmp_path / "dophu-2025-W18.json").read_text()))
    book = openpyxl.load_workbook(io.BytesIO((tmp_path / "dophu-2025-W18.xlsx").read_bytes()))
    summary = book["Tổng quan"]
    table = summary.tables["TongQuan"]
    first_row = list(summary[table.ref])[1]
    assert first_row[1].value == report.totals.items
    markdown = (tmp_path / "dophu-2025-W18.md").read_text(encoding="utf-8")
    assert f"| Tin bài thu thập | {fmt_int(report.totals.items)} |" in markdown
