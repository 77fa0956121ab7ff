"""The HTML report in headless Chromium: renders without errors, loads nothing from outside,
and fits an A4 page when printed. Screenshots and PDFs go to test-artifacts/ (gitignored)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from dophu.dates import LOCAL_TZ
from reports.build import build_weekly
from reports.render import render
from tests.browser import launch_chromium
from tests.reports.reports_fixture import REPO, item

pytestmark = pytest.mark.browser

ARTIFACTS = REPO / "test-artifacts"
A4_WIDTH_PX = 794          # 210 mm at 96 px per inch
A4_CONTENT_PX = 703        # 186 mm: A4 less the 12 mm side margins of report.css
NOW = datetime(2025, 5, 5, 7, 0, tzinfo=LOCAL_TZ)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_chromium("the HTML report is")


class PageWatch:
    """Opens a page and records everything that went wrong on it."""

    def __init__(self, browser: Any, path: Path, **context: Any):
        self.page_url = path.resolve().as_uri()
        self.context = browser.new_context(**context)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}")
                     if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.errors.append(f"failed: {r.url}"))
        self.page.on("dialog", lambda d: (self.errors.append(f"dialog: {d.message}"),
                                          d.dismiss()))
        self.page.on("request", lambda r: self.requests.append(r.url))

    def open(self) -> Any:
        self.page.goto(self.page_url, wait_until="load")
        return self.page

    @property
    def outside_requests(self) -> list[str]:
        return [u for u in self.requests if u != self.page_url]

    def close(self) -> None:
        self.context.close()


def _write(tmp_path: Path, name: str, html: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(html)
    return path


def test_fixture_report_renders_clean(browser, store, plan, sources, tmp_path):
    store.upsert([item("x1", "baocantho", "bao-can-tho", "2025-05-02T09:00:00+07:00",
                       themes={"dai-hoi-dang": 0.97}, url="javascript:alert(3)",
                       title="<img src=https://evil.example/x.png onerror=alert(1)>")])
    report = build_weekly(store, plan, sources, week="2025-W18", now=NOW)
    watch = PageWatch(browser, _write(tmp_path, "weekly.html", render(report, "html")),
                      viewport={"width": 1000, "height": 1200})
    try:
        page = watch.open()
        assert page.title().startswith("Báo cáo độ phủ tuần 18/2025")
        assert page.locator("h2").all_inner_texts()[:2] == ["1. Tổng quan", "2. Theo chủ đề"]
        assert page.evaluate("document.scripts.length") == 0
        assert page.locator("img").count() == 0
        assert page.locator("svg.chart").count() == 2 + len(report.themes)
        # the hostile title is shown as text
        assert page.get_by_text("<img src=https://evil.example/x.png").count() >= 1
        assert page.locator("td.gap").count() >= 1 and page.locator("td.unverified").count() >= 3
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report-weekly-fixture.png"), full_page=True)
    finally:
        watch.close()
    assert watch.errors == []
    assert watch.outside_requests == []


def test_sample_report_fits_a4_when_printed(browser, sample_reports, tmp_path):
    html = render(sample_reports["weekly"], "html")
    watch = PageWatch(browser, _write(tmp_path, "sample.html", html),
                      viewport={"width": A4_CONTENT_PX, "height": 1000})
    try:
        page = watch.open()
        page.emulate_media(media="print")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= A4_CONTENT_PX, f"printed content is {width}px wide, wider than A4"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report-weekly-sample.png"), full_page=True)
        pdf = page.pdf(format="A4", print_background=True)
        (ARTIFACTS / "report-weekly-sample.pdf").write_bytes(pdf)
        assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(
            b"/Type /Page ") + pdf.count(b"/Type /Page/") >= 2
    finally:
        watch.close()
    assert watch.errors == []
    assert watch.outside_requests == []


@pytest.mark.parametrize("name", ["month", "unit"])
def test_range_and_unit_reports_render_clean(browser, sample_reports, tmp_path, name):
    watch = PageWatch(browser, _write(tmp_path, f"{name}.html",
                                      render(sample_reports[name], "html")))
    try:
        page = watch.open()
        assert page.locator("h2").count() >= 6
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"report-{name}-sample.png"), full_page=True)
    finally:
        watch.close()
    assert watch.errors == []
    assert watch.outside_requests == []
