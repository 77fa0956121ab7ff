"""import → search → export through the command line, as a user runs them."""

from __future__ import annotations

import csv
import gzip
import json
import unicodedata
from pathlib import Path

import pytest

from tests.conftest import NEWS_CORPUS, read_news
from tests.dophu.cli_runner import Dophu


def to_cp1258(text: str) -> bytes:
    """Windows-1258 as legacy Vietnamese software writes it: base letters, then tone marks."""
    tones = "\u0300\u0301\u0303\u0309\u0323"
    out = []
    for char in unicodedata.normalize("NFC", text):
        try:
            out.append(char.encode("cp1258"))
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", char)
            marks = decomposed[1:]
            base = unicodedata.normalize("NFC", decomposed[0] + "".join(
                m for m in marks if m not in tones))
            out.append(base.encode("cp1258") + "".join(m for m in marks if m in tones).encode(
                "cp1258"))
    return b"".join(out)


@pytest.fixture
def dophu(config_dir: Path, data_dir: Path) -> Dophu:
    return Dophu(config_dir, data_dir)


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    return path


POSTS = [
    {"url": "https://baocantho.com.vn/dai-hoi-dang-bo-phuong.html?utm_source=fb",
     "title": "Đại hội Đảng bộ phường Cái Khế nhiệm kỳ 2025 - 2030",
     "text": "Đại hội thành công tốt đẹp.", "published_at": "2025-05-10T08:00:00+07:00",
     "source": "baocantho"},
    {"url": "https://canthotv.vn/video/le-ky-niem.html",
     "title": unicodedata.normalize("NFD", "Lễ kỷ niệm 50 năm giải phóng miền Nam"),
     "text": "Video phóng sự. Hoà bình.", "published_at": "30/4/2025 07:00",
     "source": "canthotv"},
]


def test_round_trip_import_search_export(dophu: Dophu, tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "posts.jsonl", POSTS)
    report = dophu.json("import", str(path))
    assert report == {"read": 2, "new": 2, "updated": 0, "unchanged": 0, "rejected": []}
    found = dophu.json("search", "dai hoi dang bo")
    assert found["total"] == 1
    item = found["items"][0]
    # tracking parameters are stripped from the URL, unit and kind come from the source
    assert item["url"] == "https://baocantho.com.vn/dai-hoi-dang-bo-phuong.html"
    assert (item["source"], item["unit"], item["kind"]) == ("baocantho", "bao-can-tho",
                                                           "newspaper")
    # the shipped classifier tags on import: the congress item carries its theme, with evidence
    assert [t["id"] for t in item["themes"]] == ["dai-hoi-dang"] and item["relevant"] is True
    assert any("Đại hội Đảng bộ" in e for e in item["themes"][0]["evidence"])
    assert set(found["facets"]) >= {"theme", "source", "unit"}
    nfd = dophu.json("search", "giai phong mien nam")["items"][0]
    assert nfd["title"] == "Lễ kỷ niệm 50 năm giải phóng miền Nam"
    assert unicodedata.is_normalized("NFC", nfd["title"]) and "Hòa bình" in nfd["text"]
    assert nfd["published_at"] == "2025-04-30T07:00:00+07:00"
    out = tmp_path / "export.jsonl"
    result = dophu("export", "-o", str(out))
    assert result.exit_code == 0
    exported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(e["title"] for e in exported) == sorted(
        unicodedata.normalize("NFC", p["title"]) for p in POSTS)
    required = {"id", "url", "source", "unit", "kind", "title", "text", "published_at",
                "fetched_at", "relevant", "themes", "anniversaries", "duplicate_of"}
    assert all(required <= set(e) for e in exported)


def test_reimport_is_idempotent(dophu: Dophu, tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "posts.jsonl", POSTS)
    dophu.json("import", str(path))
    again = dophu.json("import", str(path))
    assert (again["new"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert dophu.json("search")["total"] == 2


def test_bad_rows_are_rejected_with_line_numbers_good_rows_kept(dophu: Dophu,
                                                               tmp_path: Path) -> None:
    lines = [
        json.dumps(POSTS[0], ensure_ascii=False),
        "{not json",
        json.dumps({**POSTS[1], "published_at": "hôm qua"}, ensure_ascii=False),
        json.dumps({"title": "", "text": "", "source": "baocantho"}),
        json.dumps({"title": "x", "source": "khong-co"}),
        "[1, 2]",
        json.dumps({"title": "Bài không nguồn"}),
        json.dumps({**POSTS[1]}, ensure_ascii=False),
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = dophu.json("import", str(path))
    assert report["read"] == 8 and report["new"] == 2
    errors = {r["line"]: r["error"] for r in report["rejected"]}
    assert sorted(errors) == [2, 3, 4, 5, 6, 7]
    assert errors[2].startswith("not valid JSON")
    assert errors[3].startswith("published_at: not a date")
    assert "empty" in errors[4]
    assert "unknown source 'khong-co'" in errors[5]
    assert errors[6] == "expected a JSON object"
    assert errors[7].startswith("source: missing")


def test_csv_import_with_errors_and_source_option(dophu: Dophu, tmp_path: Path) -> None:
    path = tmp_path / "fb.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["url", "title", "text", "published_at", "source"])
        writer.writerow(["", "Phuong Cai Khe ra quan xoa nha tam",
                         "doan vien thanh nien phuong cai khe ho tro xoa nha tam", "2025-06-01",
                         ""])
        writer.writerow(["", "Bài hai", "Nội dung", "không phải ngày", ""])
        writer.writerow(["only", "three"])
    result = dophu("import", str(path), "--source", "baocantho", "--json")
    report = json.loads(result.stdout)
    assert report["new"] == 1
    assert [r["line"] for r in report["rejected"]] == [3, 4]
    item = dophu.json("search", "xóa nhà tạm")["items"][0]
    assert item["url"] is None and item["source"] == "baocantho"


def test_windows_1258_csv_is_decoded(dophu: Dophu, tmp_path: Path) -> None:
    path = tmp_path / "legacy.csv"
    text = ("title,text,source\nỦy ban nhân dân phường tổ chức hội nghị,"
            "Hội nghị tổng kết công tác năm,baocantho\n")
    path.write_bytes(to_cp1258(text))
    report = dophu.json("import", str(path))
    assert report["new"] == 1, report
    item = dophu.json("search", "uy ban nhan dan")["items"][0]
    assert item["title"] == "Ủy ban nhân dân phường tổ chức hội nghị"


def test_unknown_source_option_and_missing_file_exit_2(dophu: Dophu, tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "p.jsonl", POSTS)
    result = dophu("import", str(path), "--source", "nope")
    assert result.exit_code == 2 and "unknown source 'nope'" in result.stderr
    result = dophu("import", str(tmp_path / "missing.jsonl"))
    assert result.exit_code == 2 and "file not found" in result.stderr


def test_search_bad_arguments_exit_2_with_one_line(dophu: Dophu) -> None:
    for args, needle in ((["--theme", "khong-co"], "unknown id 'khong-co'"),
                         (["--from", "mai"], "--from: not a date"),
                         (["x" * 5000], "too long"),
                         (["--limit", "100000"], "--size")):
        result = dophu("search", *args, "--json")
        assert result.exit_code == 2, args
        assert needle in result.stderr and result.stdout == ""
        assert result.stderr.count("\n") == 1


def test_plan_show_and_sources_list(dophu: Dophu) -> None:
    plan = dophu.json("plan", "show")
    assert plan["id"] == "can-tho-chu-de-lon-2025" and len(plan["themes"]) == 10
    assert plan["anniversaries"][1]["date"] == "2025-04-30"
    sources = dophu.json("sources", "list")["sources"]
    assert sources[0]["id"] == "baocantho" and sources[0]["health"] is None
    assert dophu("plan", "show").exit_code == 0


def test_bad_plan_exits_2_naming_file_and_line(dophu: Dophu, config_dir: Path) -> None:
    plan_path = next((config_dir / "plans").glob("*.yaml"))
    text = plan_path.read_text(encoding="utf-8").replace("date: 2025-04-30", "date: 2025-13-40")
    plan_path.write_text(text, encoding="utf-8")
    result = dophu("plan", "show")
    assert result.exit_code == 2
    assert f"{plan_path.name}:" in result.stderr and "anniversaries[1].date: not a date" in \
        result.stderr


def test_sources_import_csv_never_half_applies(dophu: Dophu, config_dir: Path,
                                               tmp_path: Path) -> None:
    before = (config_dir / "sources.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name,unit,kind,home\nmoi,Mới,phuong-cai-khe,portal,https://a.vn/\n"
                   "x,X,khong-co,portal,https://x.vn/\n", encoding="utf-8")
    result = dophu("sources", "import", str(bad))
    assert result.exit_code == 2 and "bad.csv:3: unit: unknown unit" in result.stderr
    assert (config_dir / "sources.yaml").read_text(encoding="utf-8") == before
    good = tmp_path / "good.csv"
    good.write_text("id,name,unit,kind,home\nmoi,Mới,phuong-cai-khe,portal,https://a.vn/\n",
                    encoding="utf-8")
    assert dophu.json("sources", "import", str(good)) == {"added": 1, "updated": 0,
                                                          "errors": []}
    assert "moi" in [s["id"] for s in dophu.json("sources", "list")["sources"]]


def test_real_corpus_import_resolves_sources_by_name_and_host(dophu: Dophu,
                                                              tmp_path: Path) -> None:
    rows = read_news(2000)
    path = tmp_path / "news.jsonl"
    with gzip.open(NEWS_CORPUS, "rt", encoding="utf-8") as src, path.open("w") as dst:
        for _ in range(2000):
            dst.write(src.readline())
    report = dophu.json("import", str(path))
    assert report["read"] == 2000 and report["rejected"] == []
    assert report["new"] == len({r["url"].split("?")[0] for r in rows})
    facets = dophu.json("search")["facets"]["source"]
    assert set(facets) <= {"vnexpress", "thanhnien", "tuoitre"}
    assert sum(facets.values()) == report["new"]
