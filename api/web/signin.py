"""``/signin`` and ``/signout``: a token typed once, kept in an HttpOnly cookie.

The cookie is SameSite=Strict (never sent on a cross-site request), HttpOnly
(no script can read it) and Secure when the page was served over HTTPS.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.access import principal_from_request, safe_next
from api.auth import COOKIE_NAME, csrf_ok
from api.state import AppState, get_state
from api.web.common import render

router = APIRouter(include_in_schema=False)

COOKIE_DAYS = 30


@router.get("/signin")
def signin_form(request: Request, state: AppState = Depends(get_state)) -> Response:
    user = principal_from_request(request, state)
    return render(request, "signin.html", {
        "title": "Đăng nhập", "next": safe_next(request.query_params.get("next")),
        "error": None,
    }, user)


@router.post("/signin")
def signin(request: Request, token: str = Form(max_length=500),
           next_url: str = Form("/", alias="next", max_length=2000),
           state: AppState = Depends(get_state)) -> Response:
    principal = state.tokens.identify(token.strip())
    if principal is None:
        message = ("Chưa cấu hình mã truy cập nào (DOPHU_API_TOKENS)." if state.tokens.empty
                   else "Mã truy cập không đúng.")
        return render(request, "signin.html", {"title": "Đăng nhập", "next": safe_next(next_url),
                                               "error": message}, None, status_code=401)
    response = RedirectResponse(safe_next(next_url), status_code=303)
    response.set_cookie(COOKIE_NAME, principal.token, max_age=COOKIE_DAYS * 86400,
                        httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https")
    return response


@router.post("/signout")
def signout(request: Request, csrf: str = Form("", max_length=100),
            state: AppState = Depends(get_state)) -> Response:
    user = principal_from_request(request, state)
    response = RedirectResponse("/", status_code=303)
    if user is None or csrf_ok(user, csrf):
        response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict")
    return response
