"""What one app serves from: the store, the plan, the sources, the settings and the tokens.

Built once by :func:`api.app.create_app` from a :class:`dophu.context.Context`
and kept on ``app.state.dophu``; route handlers get it through :func:`get_state`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import Request

from api.auth import TokenBook
from dophu.config import Plan, Source
from dophu.settings import Settings
from store import Store

if TYPE_CHECKING:
    from classifier.tagger import Tagger


@dataclass
class AppState:
    store: Store
    plan: Plan
    sources: list[Source]
    settings: Settings
    tokens: TokenBook
    extra_source_ids: set[str] = field(default_factory=set)
    model_path: Path | None = None

    def tagger(self) -> Tagger:
        """The classifier as the crawler uses it (built on first use, rebuilt when the model
        file changes): the review queue scores with it."""
        from classifier.tagger import build_tagger

        return build_tagger(self.plan, model_path=self.model_path)

    @property
    def max_page_size(self) -> int:
        return self.settings.api.max_page_size

    @property
    def read_requires_token(self) -> bool:
        return self.settings.api.read_requires_token

    def source(self, source_id: str) -> Source | None:
        return self._sources_by_id.get(source_id)

    @cached_property
    def _sources_by_id(self) -> dict[str, Source]:
        return {s.id: s for s in self.sources}

    def known_ids(self, kind: str) -> list[str]:
        """Ids a filter may name: the plan's themes/anniversaries/units, the sources."""
        if kind == "theme":
            return self.plan.label_ids("theme")
        if kind == "anniversary":
            return self.plan.label_ids("anniversary")
        if kind == "unit":
            return [u.id for u in self.plan.units]
        if kind == "source":
            configured = [s.id for s in self.sources]
            return configured + sorted(self.extra_source_ids - set(configured))
        raise ValueError(f"no ids of kind {kind!r}")

    def refresh_source_ids(self) -> None:
        """Sources the store knows (crawl state) but sources.yaml no longer lists."""
        self.extra_source_ids = set(self.store.list_source_states())

    def theme_name(self, theme_id: str) -> str:
        theme = self.plan.theme(theme_id)
        return theme.name if theme else theme_id

    def anniversary_name(self, anniversary_id: str) -> str:
        anniversary = self.plan.anniversary(anniversary_id)
        return anniversary.name if anniversary else anniversary_id

    def label_name(self, kind: str, label_id: str) -> str:
        return self.plan.label_name(kind, label_id)

    def unit_name(self, unit_id: str) -> str:
        unit = self.plan.unit(unit_id)
        return unit.name if unit else unit_id

    def source_name(self, source_id: str) -> str:
        source = self.source(source_id)
        return source.name if source else source_id


def get_state(request: Request) -> AppState:
    return request.app.state.dophu
