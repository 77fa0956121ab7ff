"""The web pages through the TestClient: content, escaping, sign-in, forms and errors."""

from __future__ import annotations

import re

import pytest

from tests.api.api_fixture import DAI_HOI, GIAI_PHONG, GIAI_PHONG_COPY, HOSTILE, TOKEN_AN, WEEK


def _sign_in(client, token: str = TOKEN_AN, next_url: str = "/") -> None:
    response = client.post("/signin", data={"token": token, "next": next_url},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == next_url


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


# ---------------------------------------------------------------- search page


def test_search_page_without_diacritics(client):
    response = client.get("/", params={"q": "dai hoi dang bo"})
    assert response.status_code == 200
    html = response.text
    assert '<html lang="vi">' in html
    assert f'href="/items/{DAI_HOI.id}"' in html
    assert "<mark>Đại</mark> <mark>hội</mark>" in html
    assert '<strong>1</strong> tin bài' in html
    assert 'class="badge theme"' in html
    # chips for every theme, with the facet count
    assert re.search(r'value="dai-hoi-dang"[^>]*> Đại hội đảng bộ[^<]*<span class="n">1</span>',
                     html, re.IGNORECASE)


def test_search_page_filters_and_empty_fields(client):
    html = client.get("/?q=&theme=niem-tin-moi&from=&to=&relevant=&sort=date").text
    assert f'/items/{GIAI_PHONG.id}' in html and f'/items/{GIAI_PHONG_COPY.id}' in html
    assert f'/items/{DAI_HOI.id}' not in html
    assert "Chủ đề: Niềm tin mới" in html            # the active filter, removable
    assert "bản trùng" in html
    html = client.get("/", params={"from": "29/4/2025", "to": "2025-04-29"}).text
    assert f'/items/{DAI_HOI.id}' in html and "<strong>1</strong>" in html


def test_search_page_escapes_crawled_text(client):
    html = client.get("/", params={"source": "cong-cantho"}).text
    assert "<script>window.__pwned" not in html
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in html
    assert "<img src=x" not in html
    html = client.get("/", params={"q": "cat dien"}).text
    assert f'/items/{HOSTILE.id}' in html
    assert "<script>window" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html


def test_search_page_bad_filters_are_a_422_page(client):
    response = client.get("/", params={"theme": "khong-co"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "Tham số không hợp lệ" in response.text and "khong-co" in response.text
    response = client.get("/", params={"from": "ngay mai <b>"})
    assert response.status_code == 422 and "<b>" not in response.text
    assert client.get("/", params={"page": "abc"}).status_code == 422


# ---------------------------------------------------------------- item page


def test_item_page_marks_evidence_and_hides_buttons_when_anonymous(client):
    html = client.get(f"/items/{DAI_HOI.id}").text
    assert '<mark class="ev">Đại hội đại biểu Đảng bộ</mark>' in html
    assert '<mark class="ev">nhiệm kỳ 2025 - 2030</mark>' in html
    assert "Đã xác nhận bởi an" in html
    assert 'data-action="confirm"' not in html
    assert "Đăng nhập</a> để xác nhận" in html


def test_item_page_escapes_crawled_text(client):
    html = client.get(f"/items/{HOSTILE.id}").text
    assert "<script>window" not in html and "<img src=x" not in html
    assert "&lt;img src=x onerror=" in html


def test_item_page_shows_duplicates(client):
    html = client.get(f"/items/{GIAI_PHONG.id}").text
    assert f'/items/{GIAI_PHONG_COPY.id}' in html and "Bản trùng (1)" in html
    html = client.get(f"/items/{GIAI_PHONG_COPY.id}").text
    assert "Đây là bản trùng của" in html and f'/items/{GIAI_PHONG.id}' in html


def test_item_page_unknown_is_404(client):
    response = client.get("/items/khong-co")
    assert response.status_code == 404 and "Không tìm thấy" in response.text


def test_sign_in_then_confirm_reject_and_add_tags(client, app):
    _sign_in(client, next_url=f"/items/{GIAI_PHONG.id}")
    html = client.get(f"/items/{GIAI_PHONG.id}").text
    assert "Người dùng: <strong>an</strong>" in html and 'data-action="confirm"' in html
    csrf = _csrf(html)
    url = f"/items/{GIAI_PHONG.id}/feedback"
    response = client.post(url, data={"csrf": csrf, "label_kind": "anniversary",
                                      "label": "giai-phong-mien-nam-50", "action": "confirm"},
                           follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/items/{GIAI_PHONG.id}?done=confirm")
    client.post(url, data={"csrf": csrf, "label_kind": "theme", "label": "niem-tin-moi",
                           "action": "reject"})
    done = client.post(url, data={"csrf": csrf, "tag": "theme:doi-ngoai", "action": "add"})
    assert done.status_code == 200 and "Đã ghi nhận: đã bổ sung" in done.text
    feedback = app.state.dophu.store.list_feedback(item_id=GIAI_PHONG.id)
    assert [(f.user, f.action, f.label) for f in feedback] == [
        ("an", "confirm", "giai-phong-mien-nam-50"), ("an", "reject", "niem-tin-moi"),
        ("an", "add", "doi-ngoai")]
    html = done.text
    assert "Đã bác bỏ bởi an" in html and "Đã bổ sung bởi an" in html


def test_feedback_form_needs_sign_in_and_csrf(client, app):
    url = f"/items/{DAI_HOI.id}/feedback"
    body = {"label_kind": "theme", "label": "dai-hoi-dang", "action": "reject"}
    anonymous = client.post(url, data=body, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/signin")
    _sign_in(client)
    forged = client.post(url, data={**body, "csrf": "0" * 40})
    assert forged.status_code == 403
    assert client.post(url, data=body).status_code == 403
    assert len(app.state.dophu.store.list_feedback(item_id=DAI_HOI.id)) == 1
    csrf = _csrf(client.get(f"/items/{DAI_HOI.id}").text)
    bad = client.post(url, data={**body, "csrf": csrf, "label": "khong-co"})
    assert bad.status_code == 422 and "khong-co" in bad.text


def test_sign_in_cookie_is_httponly_and_strict(client):
    response = client.post("/signin", data={"token": TOKEN_AN, "next": "/coverage"},
                           follow_redirects=False)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("dophu_token=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie                     # plain http in the test client


def test_sign_in_rejects_a_wrong_token_and_foreign_next(client):
    wrong = client.post("/signin", data={"token": "sai-roi", "next": "/"})
    assert wrong.status_code == 401 and "Mã truy cập không đúng" in wrong.text
    assert "set-cookie" not in wrong.headers
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        response = client.post("/signin", data={"token": TOKEN_AN, "next": evil},
                               follow_redirects=False)
        assert response.headers["location"] == "/"
    assert 'value="/"' in client.get("/signin", params={"next": "https://evil.example"}).text


def test_sign_out(client):
    _sign_in(client)
    csrf = _csrf(client.get("/").text)
    response = client.post("/signout", data={"csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303
    assert 'dophu_token=""' in response.headers["set-cookie"] or (
        "Max-Age=0" in response.headers["set-cookie"])


# ---------------------------------------------------------------- coverage page


def test_coverage_page_heatmap_gaps_trends_countdowns(client):
    response = client.get("/coverage", params={"week": WEEK})
    assert response.status_code == 200
    html = response.text
    assert "Độ phủ tuần 18/2025" in html and 'id="heatmap"' in html
    row = re.search(r'<tr data-unit="bao-can-tho">(.*?)</tr>', html, re.S).group(1)
    assert re.search(r'class="h5 " data-theme="dai-hoi-dang"', row)
    assert re.search(r'class="h0 gap" data-theme="niem-tin-moi"', row)
    failing = re.search(r'<tr data-unit="dai-ptth-can-tho">(.*?)</tr>', html, re.S).group(1)
    assert "nguồn lỗi" in failing and "gap" not in failing
    assert re.search(r'class="h0 unverified" data-theme="ky-nguyen-moi"', failing)
    assert html.count('<div class="trend"') == 10
    assert html.count('<svg class="chart"') == 11
    assert 'data-anniversary="giai-phong-mien-nam-50"' in html
    assert re.search(r"(còn|đã qua) \d+ ngày|hôm nay", html)


def test_coverage_page_default_and_bad_week(client):
    assert client.get("/coverage").status_code == 200
    for week in ("2025-W60", "tuan 18", "0001-W01"):
        response = client.get("/coverage", params={"week": week})
        assert response.status_code == 422, week
        assert "week" in response.text


# ---------------------------------------------------------------- sources page


def test_sources_page(client):
    html = client.get("/sources").text
    assert 'data-source="canthotv" data-status="failing"' in html
    assert "HTTP 503 &lt;b&gt;Service Unavailable&lt;/b&gt;" in html
    assert 'data-source="baocantho" data-status="ok"' in html
    assert "Thu thập ngay" not in html


def test_sources_page_crawl_button(client, app):
    _sign_in(client, next_url="/sources")
    html = client.get("/sources").text
    assert "Thu thập ngay" in html
    response = client.post("/sources/baocantho/crawl", data={"csrf": _csrf(html)})
    assert response.status_code == 200 and "Đã ghi nhận yêu cầu thu thập" in response.text
    assert app.state.dophu.store.get_source_state("baocantho").model_extra[
        "crawl_requested_by"] == "an"
    assert client.post("/sources/baocantho/crawl", data={"csrf": "x"}).status_code == 403
    assert client.post("/sources/khong-co/crawl", data={"csrf": _csrf(html)}
                       ).status_code == 404


# ---------------------------------------------------------------- reports page


@pytest.mark.parametrize("query, view", [
    ({"week": WEEK}, f"/api/reports/weekly?week={WEEK}&amp;format=html"),
    ({"week": WEEK, "unit": "bao-can-tho"},
     f"/api/reports/weekly?week={WEEK}&amp;unit=bao-can-tho&amp;format=html"),
    ({"mode": "range", "from": "2025-04-01", "to": "2025-04-30", "granularity": "day"},
     "/api/reports/range?from=2025-04-01&amp;to=2025-04-30&amp;granularity=day&amp;format=html"),
])
def test_reports_page(client, query, view):
    html = client.get("/reports", params=query).text
    assert f'<iframe class="report" src="{view}"' in html
    for fmt in ("html", "xlsx", "md", "json"):
        assert f"format={fmt}&amp;download=true" in html


def test_reports_page_errors(client):
    assert client.get("/reports", params={"week": "2025-99"}).status_code == 422
    assert client.get("/reports", params={"unit": "khong-co"}).status_code == 422
    assert client.get("/reports", params={"mode": "range", "from": "2025-05-01",
                                          "to": "2025-04-01"}).status_code == 422
    assert client.get("/reports", params={"mode": "range", "granularity": "year"}
                      ).status_code == 422


def test_every_page_links_the_stylesheet_and_script_only(client):
    for path in ("/", "/coverage", "/sources", "/reports", "/signin", f"/items/{DAI_HOI.id}"):
        html = client.get(path).text
        scripts = re.findall(r"<script[^>]*>", html)
        assert scripts == ['<script src="/static/app.js" defer>'], (path, scripts)
        assert "<style" not in html, path
        assert " on" + "click=" not in html and " onchange=" not in html, path
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/style.css").headers["content-type"].startswith("text/css")
