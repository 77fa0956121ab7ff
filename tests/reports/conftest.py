"""Fixtures for the report tests: the data of reports_fixture.py in a fresh SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from dophu.config import Plan, Source
from store.sqlite import SQLiteStore
from tests.reports.reports_fixture import REPO, fill, make_plan, make_sources


@pytest.fixture
def plan() -> Plan:
    return make_plan()


@pytest.fixture
def sources() -> list[Source]:
    return make_sources()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    """The fixture store (ITEMS, STATES, FEEDBACK) in a fresh SQLite file."""
    opened = SQLiteStore(tmp_path / "data" / "dophu.sqlite3")
    fill(opened)
    yield opened
    opened.close()


@pytest.fixture
def empty_store(tmp_path: Path) -> Iterator[SQLiteStore]:
    opened = SQLiteStore(tmp_path / "empty" / "dophu.sqlite3")
    yield opened
    opened.close()


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A config dir holding the test plan and sources, for the command line."""
    directory = tmp_path / "config"
    directory.mkdir()
    (directory / "plan.yaml").write_text(
        yaml.safe_dump(make_plan().model_dump(mode="json"), allow_unicode=True),
        encoding="utf-8")
    (directory / "sources.yaml").write_text(
        yaml.safe_dump({"sources": [s.model_dump(mode="json") for s in make_sources()]},
                       allow_unicode=True), encoding="utf-8")
    return directory


@pytest.fixture(scope="session")
def sample_reports(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The realistic sample (reports/sample.py) built once: the repo's plan and sources."""
    from dophu.config import find_plan_file, load_plan, load_sources
    from reports.sample import fill_sample_store, sample_reports, sample_sources

    plan = load_plan(find_plan_file(REPO / "config"))
    sources = sample_sources(load_sources(REPO / "config" / "sources.yaml", plan))
    store = SQLiteStore(tmp_path_factory.mktemp("sample") / "dophu.sqlite3")
    try:
        fill_sample_store(store, plan, sources)
        return sample_reports(store, plan, sources)
    finally:
        store.close()
