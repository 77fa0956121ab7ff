"""Security headers, CORS, read protection, body limits, tokens and the OpenAPI schema."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.auth import TokenBook, TokenConfigError, bearer_token, csrf_for, parse_tokens_env
from dophu.settings import ApiSettings
from tests.api.api_fixture import DAI_HOI, TOKEN_AN, TOKEN_BINH


def test_security_headers_on_pages_api_and_errors(client):
    for path in ("/", "/api/items", "/api/items/khong-co", "/static/style.css", "/healthz",
                 "/khong-co-trang-nay"):
        headers = client.get(path).headers
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["x-frame-options"] == "SAMEORIGIN", path
        assert headers["referrer-policy"] == "same-origin", path
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'self'" in csp, path
        assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0], path
        assert "object-src 'none'" in csp and "base-uri 'none'" in csp, path


def test_no_swagger_ui_but_an_openapi_schema(client):
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in ("/api/items", "/api/items/{item_id}", "/api/items/{item_id}/feedback",
                 "/api/coverage", "/api/reports/weekly", "/api/reports/range", "/api/sources",
                 "/api/sources/{source_id}/crawl", "/api/plan", "/healthz", "/metrics"):
        assert path in paths, path
    assert "/" not in paths and "/coverage" not in paths        # pages are not API
    search = paths["/api/items"]["get"]
    assert "Tìm kiếm" in search["summary"] and "Search" in search["summary"]
    assert " / " in search["description"]
    params = {p["name"]: p for p in search["parameters"]}
    assert {"q", "theme", "anniversary", "source", "unit", "kind", "from", "to", "relevant",
            "sort", "page", "size"} <= set(params)
    theme_items = params["theme"]["schema"]["anyOf"][0]["items"]
    assert "niem-tin-moi" in theme_items["enum"] and len(theme_items["enum"]) == 10
    feedback = paths["/api/items/{item_id}/feedback"]["post"]
    assert feedback["security"] == [{"HTTPBearer": []}]
    assert "security" not in search                          # reads are open by default


def test_cors_is_off_by_default(client):
    response = client.get("/api/items", headers={"Origin": "https://other.example"})
    assert "access-control-allow-origin" not in response.headers
    preflight = client.options("/api/items", headers={
        "Origin": "https://other.example", "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_only_for_configured_origins(make_app):
    with TestClient(make_app(cors_origins=["https://bao.example"])) as cors:
        allowed = cors.get("/api/items", headers={"Origin": "https://bao.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://bao.example"
        other = cors.get("/api/items", headers={"Origin": "https://other.example"})
        assert "access-control-allow-origin" not in other.headers
        preflight = cors.options("/api/items", headers={
            "Origin": "https://bao.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization"})
        assert preflight.status_code == 200
        assert "access-control-allow-credentials" not in preflight.headers


def test_reads_can_require_a_token(make_app):
    with TestClient(make_app(read_requires_token=True)) as guarded:
        schema = guarded.get("/openapi.json").json()
        assert schema["paths"]["/api/items"]["get"]["security"] == [{"HTTPBearer": []}]
        for path in ("/api/items", f"/api/items/{DAI_HOI.id}", "/api/coverage", "/api/sources",
                     "/api/plan", "/api/reports/weekly", "/metrics"):
            response = guarded.get(path)
            assert response.status_code == 401, path
            assert guarded.get(path, headers={"Authorization": f"Bearer {TOKEN_BINH}"}
                               ).status_code == 200, path
        assert guarded.get("/healthz").status_code == 200
        assert guarded.get("/openapi.json").status_code == 200
        page = guarded.get("/coverage?week=2025-W18", follow_redirects=False)
        assert page.status_code == 303
        assert page.headers["location"] == "/signin?next=/coverage%3Fweek%3D2025-W18"
        assert guarded.get("/signin").status_code == 200
        guarded.post("/signin", data={"token": TOKEN_AN, "next": "/"})
        assert guarded.get("/").status_code == 200
        # the signed-in cookie also opens the API's reads (the report iframe needs it)
        assert guarded.get("/api/reports/weekly?week=2025-W18&format=html").status_code == 200


def test_request_bodies_are_bounded(client):
    headers = {"Authorization": f"Bearer {TOKEN_AN}", "Content-Type": "application/json"}
    big = b'{"label_kind":"theme","label":"dai-hoi-dang","action":"add","note":"' + (
        b"x" * 70_000) + b'"}'
    response = client.post(f"/api/items/{DAI_HOI.id}/feedback", content=big, headers=headers)
    assert response.status_code == 413

    def chunks():
        yield big[:40_000]
        yield big[40_000:]

    streamed = client.post(f"/api/items/{DAI_HOI.id}/feedback", content=chunks(),
                           headers=headers)
    assert streamed.status_code == 413


def test_unknown_routes_and_methods(client):
    assert client.get("/api/khong-co").status_code == 404
    assert client.get("/api/khong-co").json() == {"detail": "Not Found"}
    assert client.delete("/api/items").status_code == 405
    page = client.get("/trang-khong-co")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")


# ---------------------------------------------------------------- tokens


def test_tokens_from_settings_and_environment():
    book = TokenBook.from_settings(ApiSettings(tokens={"an": TOKEN_AN, "binh": "old-token"}),
                                   {"DOPHU_API_TOKENS": f" binh:{TOKEN_BINH} , chi:a:b:c ,"})
    assert sorted(book.names) == ["an", "binh", "chi"]
    assert book.identify(TOKEN_AN).name == "an"
    assert book.identify(TOKEN_BINH).name == "binh"
    assert book.identify("old-token") is None               # the environment wins
    assert book.identify("a:b:c").name == "chi"             # a token may hold ':'
    assert book.identify("") is None and book.identify(None) is None
    assert book.identify(TOKEN_AN + "x") is None and book.identify(TOKEN_AN[:-1]) is None
    assert book.identify("đ" * 10) is None


@pytest.mark.parametrize("value", ["justtoken", "name:", ":token", "a:b,oops"])
def test_malformed_token_environment_is_a_clear_error(value):
    with pytest.raises(TokenConfigError, match="DOPHU_API_TOKENS: entry"):
        parse_tokens_env(value)


def test_bearer_header_parsing():
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer   abc  ") == "abc"
    assert bearer_token("Basic abc") is None
    assert bearer_token("Bearer") is None and bearer_token(None) is None


def test_csrf_depends_on_the_token():
    assert csrf_for("a" * 20) != csrf_for("b" * 20)
    assert len(csrf_for("a" * 20)) == 40
