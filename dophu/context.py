"""Where dophu finds its configuration and data, loaded once per command or process."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from dophu.config import Plan, Source, find_plan_file, load_plan, load_sources
from dophu.settings import Settings, load_settings
from store import Store, open_store


def default_config_dir() -> Path:
    return Path(os.environ.get("DOPHU_CONFIG") or "config")


def default_data_dir() -> Path:
    return Path(os.environ.get("DOPHU_DATA") or "data")


@dataclass
class Context:
    """The active plan, sources and store for one run of dophu."""

    config_dir: Path = field(default_factory=default_config_dir)
    data_dir: Path = field(default_factory=default_data_dir)

    @cached_property
    def plan_path(self) -> Path:
        return find_plan_file(self.config_dir)

    @cached_property
    def plan(self) -> Plan:
        return load_plan(self.plan_path)

    @property
    def sources_path(self) -> Path:
        return self.config_dir / "sources.yaml"

    @cached_property
    def sources(self) -> list[Source]:
        return load_sources(self.sources_path, self.plan)

    def source(self, source_id: str) -> Source | None:
        return next((s for s in self.sources if s.id == source_id), None)

    @cached_property
    def settings(self) -> Settings:
        return load_settings(self.config_dir)

    @cached_property
    def store(self) -> Store:
        return open_store(self.data_dir)

    @property
    def model_path(self) -> Path:
        return self.data_dir / "models" / f"{self.plan.id}.joblib"

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
