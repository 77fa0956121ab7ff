"""Shared fixtures: paths to the repository, the shared real data, and small configs."""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SHARED_DATA = SHARED / "data"
NEWS_CORPUS = SHARED_DATA / "vn-news-2025-2026.jsonl.gz"
DEFAULT_PLAN = REPO / "config" / "plans" / "can-tho-chu-de-lon-2025.yaml"


def read_news(limit: int | None = None) -> list[dict]:
    """The first ``limit`` items of the shared real corpus (title + RSS summary)."""
    if not NEWS_CORPUS.exists():
        pytest.fail(f"shared data missing: {NEWS_CORPUS} (tests read it from ../shared/data)")
    with gzip.open(NEWS_CORPUS, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in islice(handle, limit)]


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A copy of the default config that a test may edit."""
    target = tmp_path / "config"
    shutil.copytree(REPO / "config", target)
    return target


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "data"
    path.mkdir()
    yield path
