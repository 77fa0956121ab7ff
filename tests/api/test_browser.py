"""The web pages in headless Chromium, against the app served by uvicorn in a thread.

Each page loads without console errors (a Content-Security-Policy violation is
one) and without requests to anywhere but the app; a query typed without
diacritics finds items; a signed-in user confirms a tag; the coverage page
shows its heatmap. Screenshots go to test-artifacts/ (gitignored).
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from tests.api.api_fixture import (
    ARTIFACTS,
    DAI_HOI,
    GIAI_PHONG,
    HOSTILE,
    TOKEN_AN,
    WEEK,
)
from tests.browser import launch_chromium

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_chromium("the web pages are")


@pytest.fixture
def base_url(app) -> Iterator[str]:
    """The app served by uvicorn in a thread on 127.0.0.1 and a free port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


class Watch:
    """A browser context that records console errors, page errors and outside requests."""

    def __init__(self, browser: Any, base_url: str, viewport: dict[str, int] = DESKTOP):
        self.base_url = base_url
        self.context = browser.new_context(viewport=viewport, locale="vi-VN")
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}")
                     if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("request", self._request)

    def _request(self, request: Any) -> None:
        url = request.url
        if not url.startswith((self.base_url, "data:", "about:")):
            self.outside.append(url)

    def open(self, path: str) -> Any:
        response = self.page.goto(self.base_url + path, wait_until="load")
        assert response is not None and response.status == 200, (path, response and
                                                                   response.status)
        return self.page

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"web-{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()
        assert self.errors == [], self.errors
        assert self.outside == [], self.outside


@pytest.fixture
def watch(browser, base_url) -> Iterator[Watch]:
    opened = Watch(browser, base_url)
    yield opened
    opened.close()


def test_search_typed_without_diacritics(watch):
    page = watch.open("/")
    box = page.locator("input[name=q]")
    box.fill("dai hoi dang bo")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/\?q=dai\+hoi\+dang\+bo"))
    cards = page.locator("article.result")
    assert cards.count() == 1
    assert cards.first.locator("h3").inner_text().startswith("Đại hội Đảng bộ phường Ninh Kiều")
    assert cards.first.locator("mark").count() >= 4
    assert page.locator("#total").inner_text().startswith("1 tin bài")
    # empty filter fields are left out of the URL (app.js)
    assert "from=" not in page.url and "relevant=" not in page.url
    watch.shot("search")


def test_filter_chip_applies_at_once(watch):
    page = watch.open("/")
    page.locator("summary", has_text="Chủ đề").click()
    with page.expect_navigation():
        page.locator("label.chip", has_text="Niềm tin mới").click()
    assert "theme=niem-tin-moi" in page.url
    assert page.locator("article.result").count() == 2
    assert page.locator("a.chip.active").first.inner_text().startswith("Chủ đề: Niềm tin mới")


def test_crawled_script_never_runs(watch):
    page = watch.open("/?q=cat+dien")
    assert page.locator("article.result").count() == 1
    page.locator("article.result h3 a").click()
    page.wait_for_url(f"**/items/{HOSTILE.id}")
    assert page.evaluate("window.__pwned === undefined")
    assert "<script>window.__pwned = 1</script>" in page.locator("h1").inner_text()


def test_sign_in_and_confirm_a_tag(watch, app):
    page = watch.open(f"/items/{GIAI_PHONG.id}")
    assert page.locator("[data-action=confirm]").count() == 0
    page.get_by_role("link", name="Đăng nhập").first.click()
    page.wait_for_url(re.compile(r"/signin\?next=/items/"))
    page.locator("input[name=token]").fill(TOKEN_AN)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"**/items/{GIAI_PHONG.id}")
    tag = page.locator('.tag[data-tag="theme:niem-tin-moi"]')
    assert page.locator("mark.ev").count() >= 2
    tag.locator("[data-action=confirm]").click()
    page.wait_for_url(re.compile(rf"/items/{GIAI_PHONG.id}\?done=confirm"))
    assert page.locator("#done").inner_text().startswith("Đã ghi nhận")
    assert "Đã xác nhận bởi an" in page.locator(
        '.tag[data-tag="theme:niem-tin-moi"] .status').inner_text()
    feedback = app.state.dophu.store.list_feedback(item_id=GIAI_PHONG.id)
    assert [(f.user, f.action, f.label) for f in feedback] == [("an", "confirm",
                                                                "niem-tin-moi")]
    # rejecting asks first (app.js); dismissing the question changes nothing
    page.once("dialog", lambda dialog: dialog.dismiss())
    tag.locator("[data-action=reject]").click()
    page.wait_for_timeout(300)
    assert len(app.state.dophu.store.list_feedback(item_id=GIAI_PHONG.id)) == 1
    watch.shot("item-signed-in")


REVIEW = "/review?from=2025-04-01&to=2025-05-31&max_distance=10"


def test_review_queue_answered_in_the_browser(watch, app):
    page = watch.open(REVIEW)
    assert page.locator("#review tbody tr[data-item]").count() > 0
    assert page.locator("[data-action=dismiss]").count() == 0       # anonymous: no buttons
    page.locator("main a[href^='/signin']").click()      # keeps the period in next=
    page.locator("input[name=token]").fill(TOKEN_AN)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(re.compile(r"/review\?from=2025-04-01"))
    row = page.locator('#review tr[data-stored="no"]').first
    item_id, label = row.get_attribute("data-item"), row.get_attribute("data-label")
    rows_before = page.locator("#review tbody tr[data-item]").count()
    row.locator("[data-action=dismiss]").click()
    page.wait_for_url(re.compile(r"/review\?.*done=dismiss"))
    assert page.locator("#done").inner_text().startswith("Đã ghi nhận")
    assert page.locator(f'#review tr[data-item="{item_id}"][data-label="{label}"]').count() == 0
    assert page.locator("#review tbody tr[data-item]").count() in (rows_before - 1, rows_before)
    feedback = app.state.dophu.store.list_feedback(item_id=item_id)
    assert [(f.user, f.action, f.label) for f in feedback] == [("an", "dismiss", label)]
    watch.shot("review-signed-in")


def test_coverage_heatmap(watch):
    page = watch.open(f"/coverage?week={WEEK}")
    heatmap = page.locator("#heatmap")
    assert heatmap.is_visible()
    assert heatmap.locator("tbody tr").count() >= 20
    gap = page.locator('tr[data-unit="bao-can-tho"] td[data-theme="niem-tin-moi"]')
    assert "gap" in gap.get_attribute("class") and gap.inner_text() == "0!"
    assert page.locator('tr[data-unit="bao-can-tho"] td[data-theme="dai-hoi-dang"]'
                        ).inner_text() == "1"
    assert page.locator("svg.chart").count() == 11
    assert page.locator(".countdown").count() == 6
    watch.shot("coverage")


def test_every_page_loads_clean_on_a_phone(browser, base_url):
    phone = Watch(browser, base_url, viewport=PHONE)
    try:
        for name, path in (("search", "/?q=giai+phong"), ("item", f"/items/{DAI_HOI.id}"),
                           ("coverage", f"/coverage?week={WEEK}"), ("sources", "/sources"),
                           ("reports", f"/reports?week={WEEK}"), ("signin", "/signin"),
                           ("review", REVIEW)):
            page = phone.open(path)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{path} is {overflow}px wider than a phone"
            phone.shot(f"{name}-phone")
    finally:
        phone.close()


def test_reports_page_shows_the_report(watch):
    page = watch.open(f"/reports?week={WEEK}")
    frame = page.frame_locator("iframe.report")
    assert frame.locator("h1").first.inner_text().startswith("Báo cáo độ phủ tuần 18/2025")
    links = page.locator(".downloads a")
    assert links.count() == 5
    with page.expect_download() as download:
        page.locator(".downloads a", has_text="Excel").click()
    assert download.value.suggested_filename == "dophu-2025-W18.xlsx"
    watch.shot("reports")


def test_sources_page(watch):
    page = watch.open("/sources")
    failing = page.locator('tr[data-source="canthotv"]')
    assert "lỗi thu thập" in failing.inner_text()
    assert "HTTP 503 <b>Service Unavailable</b>" in failing.inner_text()
    watch.shot("sources")
