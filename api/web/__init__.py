"""The web pages: server-rendered Jinja2, in Vietnamese, usable on a phone."""

from __future__ import annotations

from fastapi import APIRouter

from api.web import coverage, item, reports, review, search, signin, sources

router = APIRouter(include_in_schema=False)
for module in (search, item, coverage, sources, reports, review, signin):
    router.include_router(module.router)
