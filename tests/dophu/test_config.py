"""The plan and sources as configuration: valid files load, wrong ones say where."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dophu.config import (
    ConfigError,
    find_plan_file,
    load_plan,
    load_sources,
    merge_sources,
    parse_sources_csv,
)
from tests.conftest import DEFAULT_PLAN, REPO

TAXONOMY_THEMES = ["niem-tin-moi", "co-do-40-nam", "ky-nguyen-moi", "hoi-nghi-tw-10",
                   "dai-hoi-dang", "bao-ve-nen-tang", "phat-trien-kt-xh", "doi-ngoai",
                   "thi-dua-khen-thuong", "dai-doan-ket-an-sinh"]
TAXONOMY_ANNIVERSARIES = {
    "thanh-lap-dang-95": "2025-02-03", "giai-phong-mien-nam-50": "2025-04-30",
    "sinh-nhat-bac-135": "2025-05-19", "cach-mang-thang-tam-80": "2025-08-19",
    "quoc-khanh-80": "2025-09-02", "tong-tuyen-cu-80": "2026-01-06",
}


def test_default_plan_uses_the_taxonomy_ids() -> None:
    plan = load_plan(DEFAULT_PLAN)
    assert [t.id for t in plan.themes] == TAXONOMY_THEMES
    assert [t.id for t in plan.major_themes] == ["niem-tin-moi", "co-do-40-nam", "ky-nguyen-moi"]
    assert {a.id: a.date.isoformat() for a in plan.anniversaries} == TAXONOMY_ANNIVERSARIES
    assert all(t.phrases for t in plan.themes) and all(a.phrases for a in plan.anniversaries)
    assert len(plan.phases) == 2
    units = {u.id for u in plan.units}
    assert {"bao-can-tho", "dai-ptth-can-tho", "mttq-thanh-pho", "so-vhttdl"} <= units
    quoc_khanh = plan.anniversary("quoc-khanh-80")
    assert quoc_khanh.in_window(quoc_khanh.date) and not quoc_khanh.in_window(
        quoc_khanh.date.replace(year=2024))


def test_default_sources_are_valid_against_the_plan() -> None:
    plan = load_plan(DEFAULT_PLAN)
    sources = load_sources(REPO / "config" / "sources.yaml", plan)
    assert {"baocantho", "canthotv", "cong-cantho", "mttq-cantho"} <= {s.id for s in sources}
    assert all(s.crawlable for s in sources)


def _broken_plan(tmp_path: Path, edit) -> Path:
    data = yaml.safe_load(DEFAULT_PLAN.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _line_of(path: Path, needle: str, occurrence: int = 1) -> int:
    count = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            count += 1
            if count == occurrence:
                return number
    raise AssertionError(needle)


def test_bad_anniversary_date_names_file_line_and_field(tmp_path: Path) -> None:
    path = _broken_plan(tmp_path, lambda d: d["anniversaries"][3].update(date="ngày mai"))
    with pytest.raises(ConfigError) as info:
        load_plan(path)
    expected_line = _line_of(path, "date: ngày mai")
    assert str(info.value) == f"plan.yaml:{expected_line}: anniversaries[3].date: not a date"


@pytest.mark.parametrize(("edit", "field", "message"), [
    (lambda d: d["themes"][0].pop("name"), "themes[0].name", "required field is missing"),
    (lambda d: d["themes"][1].update(id="Bad Id"), "themes[1].id", "not a valid id"),
    (lambda d: d["units"][0].update(colour="red"), "units[0].colour", "unknown field"),
    (lambda d: d["phases"][0].update(end="2024-01-01"), "phases[0]", "end is before start"),
    (lambda d: d["themes"].append(dict(d["themes"][0])), "", "duplicate themes id"),
])
def test_plan_errors_are_one_clear_line(tmp_path: Path, edit, field: str, message: str) -> None:
    path = _broken_plan(tmp_path, edit)
    with pytest.raises(ConfigError) as info:
        load_plan(path)
    text = str(info.value)
    assert text.startswith("plan.yaml:") and "\n" not in text
    assert message in text
    if field:
        assert f": {field}: " in text


def test_invalid_yaml_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text("id: x\nthemes: [\n  - a\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"plan.yaml:\d+: not valid YAML"):
        load_plan(path)
    with pytest.raises(ConfigError, match="file not found"):
        load_plan(tmp_path / "nope.yaml")


def test_a_second_plan_needs_no_code(tmp_path: Path) -> None:
    """A made-up 2026 plan of another province: other ids, other units, same code."""
    plan_dir = tmp_path / "config" / "plans"
    plan_dir.mkdir(parents=True)
    (plan_dir / "hau-giang-2026.yaml").write_text("""
id: hau-giang-2026
name: Kế hoạch tuyên truyền năm 2026 (ví dụ)
themes:
  - {id: nghi-quyet-dai-hoi-xiv, name: Học tập Nghị quyết Đại hội XIV, major: true,
     phrases: [Nghị quyết Đại hội XIV]}
  - {id: bau-cu-2026, name: Bầu cử đại biểu Quốc hội khóa XVI, phrases: [bầu cử]}
anniversaries:
  - {id: thanh-lap-dang-96, name: 96 năm Ngày thành lập Đảng, event_date: 1930-02-03,
     date: 2026-02-03, window: {before: 20, after: 5}, phrases: [96 năm]}
phases:
  - {id: ca-nam, name: Cả năm 2026, start: 2026-01-01, end: 2026-12-31}
units:
  - {id: bao-hau-giang, name: Báo Hậu Giang, group: press}
""", encoding="utf-8")
    (tmp_path / "config" / "sources.yaml").write_text("""
sources:
  - {id: baohaugiang, name: Báo Hậu Giang, unit: bao-hau-giang, kind: newspaper,
     home: "https://baohaugiang.com.vn/"}
""", encoding="utf-8")
    plan = load_plan(find_plan_file(tmp_path / "config"))
    assert plan.id == "hau-giang-2026" and [t.id for t in plan.major_themes] == [
        "nghi-quyet-dai-hoi-xiv"]
    assert plan.phase_on(plan.phases[0].start).id == "ca-nam"
    sources = load_sources(tmp_path / "config" / "sources.yaml", plan)
    assert sources[0].unit == "bao-hau-giang"


def _sources_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_sources_errors_unknown_unit_duplicate_bad_url(tmp_path: Path) -> None:
    plan = load_plan(DEFAULT_PLAN)
    good = "  - {id: a, name: A, unit: bao-can-tho, kind: newspaper, home: 'https://a.vn/'}\n"
    path = _sources_file(tmp_path, "sources:\n" + good.replace("bao-can-tho", "khong-co"))
    with pytest.raises(ConfigError, match=r"sources.yaml:2: sources\[0\].unit: unknown unit"):
        load_sources(path, plan)
    path = _sources_file(tmp_path, "sources:\n" + good + good)
    with pytest.raises(ConfigError, match=r"sources.yaml:3: sources\[1\].id: duplicate id 'a'"):
        load_sources(path, plan)
    path = _sources_file(tmp_path, "sources:\n" + good.replace("https://a.vn/", "ftp:/x"))
    with pytest.raises(ConfigError, match=r"sources\[0\].home: not an http\(s\) URL"):
        load_sources(path, plan)
    path = _sources_file(tmp_path, "sources:\n" + good.replace("}", ", interval: soon}"))
    with pytest.raises(ConfigError, match=r"interval: not an interval"):
        load_sources(path, plan)


def test_sources_csv_rows_and_merge() -> None:
    plan = load_plan(DEFAULT_PLAN)
    text = ("id,name,unit,kind,home,feeds,interval\n"
            "baocantho,Báo Cần Thơ,bao-can-tho,newspaper,https://baocantho.com.vn/,"
            "https://baocantho.com.vn/rss/a.rss|https://baocantho.com.vn/rss/b.rss,15m\n"
            "moi,Trang mới,phuong-cai-khe,portal,https://caikhe.vn/,,1h\n")
    sources, errors = parse_sources_csv(text, plan)
    assert errors == [] and len(sources[0].feeds) == 2
    bad = text + "x,X,khong-co,portal,https://x.vn/,,1h\nbaocantho,Lặp,bao-can-tho,newspaper,,,\n"
    _, errors = parse_sources_csv(bad, plan)
    assert [(e.row, e.error.split(":")[0]) for e in errors] == [(4, "unit"), (5, "id")]
    merged, added, updated = merge_sources(
        load_sources(REPO / "config" / "sources.yaml", plan), sources)
    assert (added, updated) == (1, 1)
    assert next(s for s in merged if s.id == "baocantho").interval == "15m"
