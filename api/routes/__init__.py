"""The JSON API (``/api/...``), ``/healthz`` and ``/metrics``."""

from __future__ import annotations

from fastapi import APIRouter

from api.routes import coverage, items, reports, review, sources, system

router = APIRouter()
for module in (items, review, coverage, reports, sources, system):
    router.include_router(module.router)
