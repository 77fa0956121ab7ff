"""Named bearer tokens: who may write (feedback, crawl requests) and, if asked, read.

Tokens come from ``settings.yaml`` (``api.tokens: {name: token}``) and from the
environment (``DOPHU_API_TOKENS="name:token,name2:token2"``, which wins for a
name given in both), so that real secrets need never be in the repository. A
presented token is compared with every configured one in constant time
(:func:`hmac.compare_digest`); the matching token's name is the person
recorded on feedback.

Web pages keep the token in an HttpOnly, SameSite=Strict cookie set by the
sign-in form; their own forms also carry a CSRF value derived from the token.
The JSON API takes the token only from the ``Authorization: Bearer`` header for
writes, so a cookie can never make a cross-site write.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

from dophu.settings import ApiSettings

TOKENS_ENV = "DOPHU_API_TOKENS"
COOKIE_NAME = "dophu_token"
MIN_TOKEN_CHARS = 16

log = logging.getLogger("dophu.api")


class TokenConfigError(ValueError):
    """``DOPHU_API_TOKENS`` or ``api.tokens`` is malformed; the message says where."""


def parse_tokens_env(value: str) -> dict[str, str]:
    """``"name:token,name2:token2"`` → ``{"name": "token", ...}`` (a token may hold ':')."""
    tokens: dict[str, str] = {}
    for position, entry in enumerate(value.split(","), start=1):
        entry = entry.strip()
        if not entry:
            continue
        name, sep, token = entry.partition(":")
        name, token = name.strip(), token.strip()
        if not sep or not name or not token:
            raise TokenConfigError(
                f"{TOKENS_ENV}: entry {position} is not 'name:token' (names and tokens "
                "are separated by ':', entries by ',')")
        tokens[name] = token
    return tokens


@dataclass(frozen=True)
class Principal:
    """Someone who presented a valid token."""

    name: str
    token: str

    @property
    def csrf(self) -> str:
        return csrf_for(self.token)


class TokenBook:
    """The configured tokens; answers "whose token is this?" in constant time."""

    def __init__(self, tokens: Mapping[str, str]):
        self._tokens = [(name, token.encode("utf-8")) for name, token in tokens.items() if token]
        for name, token in self._tokens:
            if len(token) < MIN_TOKEN_CHARS:
                log.warning("API token %r is shorter than %d characters; use a long random "
                            "token", name, MIN_TOKEN_CHARS)

    @classmethod
    def from_settings(cls, settings: ApiSettings, environ: Mapping[str, str] | None = None
                      ) -> TokenBook:
        environ = os.environ if environ is None else environ
        tokens = dict(settings.tokens)
        tokens.update(parse_tokens_env(environ.get(TOKENS_ENV, "")))
        return cls(tokens)

    @property
    def empty(self) -> bool:
        return not self._tokens

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self._tokens]

    def identify(self, presented: str | None) -> Principal | None:
        """The principal whose token this is; every token is compared, whatever matches."""
        if not presented:
            return None
        candidate = presented.encode("utf-8", errors="replace")
        found: Principal | None = None
        for name, token in self._tokens:
            if hmac.compare_digest(candidate, token) and found is None:
                found = Principal(name, token.decode("utf-8"))
        return found


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (None otherwise)."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def csrf_for(token: str) -> str:
    """A form value only the token's holder can compute; tied to the signed-in token."""
    return hmac.new(token.encode("utf-8"), b"dophu-csrf-v1", hashlib.sha256).hexdigest()[:40]


def csrf_ok(principal: Principal | None, presented: str | None) -> bool:
    if principal is None or not presented:
        return False
    return hmac.compare_digest(principal.csrf.encode(), presented.encode("utf-8", "replace"))
