"""Who may read and who may write: FastAPI dependencies over the token book.

- API writes: ``Authorization: Bearer <token>`` only (401 otherwise).
- API reads: open, unless ``api.read_requires_token``; then the bearer header or the
  web sign-in cookie.
- Web pages: the sign-in cookie; a page that needs it redirects to ``/signin``.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import COOKIE_NAME, Principal, bearer_token
from api.state import AppState, get_state

# Declared in the OpenAPI schema (the "Authorize" scheme), checked by hand below.
bearer_scheme = HTTPBearer(auto_error=False, description=(
    "Mã truy cập được cấp (settings.yaml api.tokens hoặc DOPHU_API_TOKENS). / A named token "
    "from api.tokens or DOPHU_API_TOKENS."))


class SignInRequired(Exception):
    """A web page needs a signed-in user; answered with a redirect to the sign-in form."""

    def __init__(self, next_url: str):
        self.next_url = next_url


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(status_code=401, detail=message,
                         headers={"WWW-Authenticate": 'Bearer realm="dophu"'})


def principal_from_request(request: Request, state: AppState, *, cookie: bool = True
                           ) -> Principal | None:
    token = bearer_token(request.headers.get("authorization"))
    if token is None and cookie:
        token = request.cookies.get(COOKIE_NAME)
    return state.tokens.identify(token)


def require_writer(request: Request, state: AppState = Depends(get_state),
                   _: HTTPAuthorizationCredentials | None = Depends(bearer_scheme)
                   ) -> Principal:
    """A bearer token for a write (its name is recorded as who did it)."""
    if state.tokens.empty:
        raise _unauthorized("writes are disabled: no API tokens are configured "
                            "(set DOPHU_API_TOKENS='name:token' or api.tokens in settings.yaml)")
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise _unauthorized("this endpoint needs 'Authorization: Bearer <token>'")
    principal = state.tokens.identify(token)
    if principal is None:
        raise _unauthorized("the token is not valid")
    return principal


def require_reader(request: Request, state: AppState = Depends(get_state),
                   _: HTTPAuthorizationCredentials | None = Depends(bearer_scheme)
                   ) -> Principal | None:
    """Reads are open unless the settings ask for a token."""
    principal = principal_from_request(request, state)
    if state.read_requires_token and principal is None:
        raise _unauthorized("reading needs a token (api.read_requires_token is on): "
                            "'Authorization: Bearer <token>'")
    return principal


def page_user(request: Request, state: AppState = Depends(get_state)) -> Principal | None:
    """The signed-in user of a web page (None: anonymous), enforcing read_requires_token."""
    principal = principal_from_request(request, state)
    if state.read_requires_token and principal is None:
        raise SignInRequired(request.url.path + (f"?{request.url.query}"
                                                  if request.url.query else ""))
    return principal


def safe_next(next_url: str | None) -> str:
    """Only a local path is followed after sign-in (never another site)."""
    if not next_url or not next_url.startswith("/") or next_url.startswith(("//", "/\\")):
        return "/"
    return next_url


async def sign_in_redirect(request: Request, exc: Exception) -> RedirectResponse:
    assert isinstance(exc, SignInRequired)
    return RedirectResponse(f"/signin?next={quote(safe_next(exc.next_url), safe='/')}",
                            status_code=303)
