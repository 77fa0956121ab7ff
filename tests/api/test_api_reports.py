"""GET /api/reports/weekly and /api/reports/range in every format, and their errors."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.api.api_fixture import WEEK

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_weekly_json_has_the_interface_keys(client):
    response = client.get("/api/reports/weekly", params={"week": WEEK})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    report = response.json()
    assert {"week", "from", "to", "timezone", "phase", "totals", "themes", "anniversaries",
            "units", "top_items"} <= set(report)
    assert (report["week"], report["from"], report["to"]) == (WEEK, "2025-04-28", "2025-05-04")
    assert report["totals"]["items"] == 4 and report["totals"]["previous_items"] == 1
    themes = {t["id"]: t for t in report["themes"]}
    assert themes["niem-tin-moi"]["items"] == 2 and themes["niem-tin-moi"]["major"] is True
    units = {u["id"]: u for u in report["units"]}
    assert units["bao-can-tho"]["themes"]["dai-hoi-dang"] == 1
    assert sum(units["bao-can-tho"]["themes"].values()) == 1
    assert "niem-tin-moi" in units["bao-can-tho"]["gaps"]
    assert units["dai-ptth-can-tho"]["failing_sources"] == ["canthotv"]
    assert units["dai-ptth-can-tho"]["gaps"] == []


def test_weekly_in_every_format(client):
    html = client.get("/api/reports/weekly", params={"week": WEEK, "format": "html"})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "Báo cáo độ phủ tuần 18/2025" in html.text
    assert html.headers["content-disposition"] == 'inline; filename="dophu-2025-W18.html"'
    csp = html.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script" not in csp
    assert "<script" not in html.text
    md = client.get("/api/reports/weekly", params={"week": WEEK, "format": "md"})
    assert md.headers["content-type"].startswith("text/markdown")
    assert md.text.startswith("# Báo cáo độ phủ tuần 18/2025")
    xlsx = client.get("/api/reports/weekly", params={"week": WEEK, "format": "xlsx"})
    assert xlsx.headers["content-type"] == XLSX
    assert xlsx.headers["content-disposition"] == 'attachment; filename="dophu-2025-W18.xlsx"'
    workbook = load_workbook(io.BytesIO(xlsx.content), read_only=True)
    assert len(workbook.sheetnames) >= 3
    download = client.get("/api/reports/weekly", params={"week": WEEK, "format": "json",
                                                         "download": "true"})
    assert download.headers["content-disposition"] == (
        'attachment; filename="dophu-2025-W18.json"')


def test_weekly_default_is_the_last_full_week(client):
    report = client.get("/api/reports/weekly").json()
    assert report["kind"] == "weekly" and report["week"].startswith("20")


def test_weekly_for_one_unit(client):
    report = client.get("/api/reports/weekly", params={"week": WEEK, "unit": "bao-can-tho"}
                        ).json()
    assert report["unit"] == "bao-can-tho" and report["totals"]["items"] == 1


def test_weekly_errors(client):
    for params, name in (({"week": "2025-18"}, "week"), ({"week": "2025-W54"}, "week"),
                         ({"week": "0001-W01"}, "week"), ({"format": "pdf"}, "format"),
                         ({"unit": "khong-co"}, "unit")):
        response = client.get("/api/reports/weekly", params=params)
        assert response.status_code == 422, (params, response.text)
        payload = response.json()
        assert payload["message"], payload
        assert any(name in e["loc"] for e in payload["detail"]) or (
            payload["detail"][0]["type"] == "query_error"), payload


def test_range_report(client):
    response = client.get("/api/reports/range", params={
        "from": "2025-04-21", "to": "2025-05-04", "granularity": "day", "format": "json"})
    assert response.status_code == 200
    report = response.json()
    assert report["kind"] == "range" and report["granularity"] == "day"
    assert report["totals"]["items"] == 5 and len(report["periods"]) == 14
    md = client.get("/api/reports/range", params={"from": "2025-04-01", "to": "2025-04-30",
                                                  "format": "md", "unit": "bao-can-tho"})
    assert md.status_code == 200 and "Báo cáo độ phủ từ 01/04/2025 đến 30/04/2025" in md.text


def test_range_errors(client):
    for params in ({"from": "2025-04-01"},
                   {"from": "2025-05-01", "to": "2025-04-01"},
                   {"from": "2025-04-01", "to": "2025-04-31"},
                   {"from": "2025-04-01", "to": "2025-04-30", "granularity": "year"},
                   {"from": "1000-01-01", "to": "2025-04-30"},
                   {"from": "2000-01-01", "to": "2099-12-31", "granularity": "day"},
                   {"from": "2025-04-01", "to": "2025-04-30", "unit": "x"}):
        response = client.get("/api/reports/range", params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["message"]
