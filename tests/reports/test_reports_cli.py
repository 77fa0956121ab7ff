"""``dophu report weekly|range`` on the fixture store: output, files, and clear errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from dophu.cli import app


@pytest.fixture
def run(store, config_dir: Path, tmp_path: Path, monkeypatch):
    """Runs ``dophu --config … --data … ARGS`` against the fixture store."""
    monkeypatch.delenv("ELASTICSEARCH_URL", raising=False)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, ["--config", str(config_dir), "--data",
                                   str(tmp_path / "data"), *args])

    return invoke


def test_weekly_json_to_stdout(run):
    result = run("report", "weekly", "--week", "2025-W18", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["week"] == "2025-W18"
    assert report["totals"]["items"] == 9 and report["totals"]["previous_items"] == 4
    assert next(u for u in report["units"] if u["id"] == "dai-ptth")["failing_sources"] == [
        "canthotv"]


def test_weekly_markdown_is_the_stdout_default(run):
    result = run("report", "weekly", "--week", "2025-W18")
    assert result.exit_code == 0
    assert result.stdout.startswith("# Báo cáo độ phủ tuần 18/2025")


def test_weekly_for_one_unit(run):
    result = run("report", "weekly", "--week", "2025-W18", "--unit", "bao-can-tho", "-f", "json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["unit"] == "bao-can-tho" and report["totals"]["items"] == 5


def test_weekly_xlsx_to_a_file(run, tmp_path):
    target = tmp_path / "out" / "tuan-18.xlsx"
    result = run("report", "weekly", "--week", "2025-W18", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert f"wrote {target}" in result.stderr
    book = openpyxl.load_workbook(io.BytesIO(target.read_bytes()))
    assert book.sheetnames[0] == "Tổng quan"
    assert not list(target.parent.glob(".*.tmp"))          # the temporary file is gone


@pytest.mark.parametrize(("name", "start"), [("r.html", b"<!doctype html>"), ("r.md", b"# "),
                                             ("r.json", b"{")])
def test_format_follows_the_file_extension(run, tmp_path, name, start):
    result = run("report", "weekly", "--week", "2025-W18", "-o", str(tmp_path / name))
    assert result.exit_code == 0
    assert (tmp_path / name).read_bytes().startswith(start)


def test_range_from_to(run):
    result = run("report", "range", "--from", "2025-04-01", "--to", "30/4/2025",
                 "--granularity", "day", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["from"], report["to"], report["granularity"]) == (
        "2025-04-01", "2025-04-30", "day")
    assert report["totals"]["items"] == 10 and len(report["periods"]) == 30


def test_range_of_a_phase_and_of_the_whole_plan(run):
    result = run("report", "range", "--phase", "dau-nam-2025", "-g", "month", "-f", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["from"], report["to"]) == ("2025-01-01", "2025-03-15")
    assert report["totals"]["items"] == 1                  # g9 on 10/03
    whole = json.loads(run("report", "range", "--phase", "all", "-g", "month",
                           "-f", "json").stdout)
    assert (whole["from"], whole["to"]) == ("2025-01-01", "2026-01-25")
    assert whole["totals"]["items"] == 16


@pytest.mark.parametrize(("args", "message"), [
    (["weekly", "--week", "2025-W60"], "--week: not an ISO week"),
    (["weekly", "--format", "xlsx"], "--format xlsx needs -o FILE"),
    (["weekly", "--format", "pdf"], "--format: 'pdf' is not one of"),
    (["weekly", "--unit", "nope"], "--unit: unknown unit 'nope'"),
    (["weekly", "-o", "report.txt"], "cannot tell the format from the extension '.txt'"),
    (["range", "--from", "2025-04-01"], "--to is required"),
    (["range", "--from", "hôm qua", "--to", "2025-04-01"], "--from: not a date"),
    (["range", "--from", "2025-05-01", "--to", "2025-04-01"], "is after --to"),
    (["range", "--phase", "x"], "--phase: unknown phase 'x'"),
    (["range", "--phase", "all", "--from", "2025-01-01"], "--phase replaces --from/--to"),
    (["range", "--from", "2025-04-01", "--to", "2025-04-30", "-g", "year"],
     "--granularity: 'year'"),
])
def test_bad_input_exits_2_with_one_clear_line(run, args, message):
    result = run("report", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and result.stdout == ""


def test_bad_output_path_loses_nothing(run, tmp_path):
    result = run("report", "weekly", "--week", "2025-W18", "-o", str(tmp_path))
    assert result.exit_code == 2 and "is a directory" in result.stderr
    existing = tmp_path / "last-week.json"
    existing.write_text("the report of last week", encoding="utf-8")
    result = run("report", "weekly", "--unit", "nope", "-o", str(existing))
    assert result.exit_code == 2
    assert existing.read_text(encoding="utf-8") == "the report of last week"
