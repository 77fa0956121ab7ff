"""Fixtures for crawler tests: local sites, a config dir, and a crawl pass as a subprocess.

A crawl pass runs the way the scheduler runs it (``python -m dophu.cli ... crawl``),
because Scrapy's reactor cannot restart inside the test process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from dophu.cli import app
from tests.conftest import REPO
from tests.crawlers.sitekit import Site

# Politeness off and retries quick: the local sites are ours.
FAST_SETTINGS: dict[str, Any] = {
    "download_delay": 0, "autothrottle": False, "retry_backoff_seconds": 0,
    "timeout_seconds": 5, "retries": 1, "concurrency_per_host": 2,
    "contact_url": "https://example.org/dophu-contact",
}


class CrawlEnv:
    """A config dir (the default plan + our sources) and a data dir."""

    def __init__(self, root: Path):
        self.config = root / "config"
        self.data = root / "data"
        shutil.copytree(REPO / "config" / "plans", self.config / "plans")
        self.data.mkdir(parents=True, exist_ok=True)
        self.settings(**FAST_SETTINGS)
        self.sources([])

    def settings(self, **crawl: Any) -> None:
        (self.config / "settings.yaml").write_text(
            yaml.safe_dump({"crawl": crawl}, allow_unicode=True), encoding="utf-8")

    def sources(self, sources: list[dict[str, Any]]) -> None:
        (self.config / "sources.yaml").write_text(
            yaml.safe_dump({"sources": sources}, allow_unicode=True, sort_keys=False),
            encoding="utf-8")

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "dophu.cli", "--config", str(self.config),
                "--data", str(self.data), *args]

    @staticmethod
    def environment() -> dict[str, str]:
        """The child's environment: this checkout, the embedded store, a wide terminal."""
        env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "400"}
        env.pop("ELASTICSEARCH_URL", None)
        return env

    def run(self, *args: str, check: bool = True, timeout: float = 180
            ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(self.command(*args), capture_output=True, text=True, cwd=REPO,
                              env=self.environment(), timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"dophu {' '.join(args)} exited {done.returncode}:\n"
                                 f"{done.stdout}\n{done.stderr[-4000:]}")
        return done

    def crawl(self, *args: str) -> dict[str, Any]:
        done = self.run("crawl", "--json", *args)
        return json.loads(done.stdout)

    def source_rows(self) -> dict[str, dict[str, Any]]:
        """``dophu sources list --json`` (in this process: it starts no crawl)."""
        done = CliRunner().invoke(app, ["--config", str(self.config), "--data", str(self.data),
                                        "sources", "list", "--json"])
        assert done.exit_code == 0, done.output
        return {row["id"]: row for row in json.loads(done.stdout)["sources"]}

    def sources_table(self) -> str:
        """The human ``dophu sources list``."""
        done = CliRunner(env={"COLUMNS": "400"}).invoke(
            app, ["--config", str(self.config), "--data", str(self.data), "sources", "list"])
        assert done.exit_code == 0, done.output
        return done.stdout

    def store(self) -> Any:
        from store.sqlite import SQLiteStore

        return SQLiteStore(self.data / "dophu.sqlite3")


def by_id(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["id"]: row for row in summary["sources"]}


def source(source_id: str, home: str | None = None, unit: str = "bao-can-tho",
           kind: str = "newspaper", **fields: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": source_id, "name": source_id, "unit": unit, "kind": kind}
    if home:
        entry["home"] = home
    entry.update(fields)
    return entry


@pytest.fixture
def env(tmp_path: Path) -> CrawlEnv:
    return CrawlEnv(tmp_path)


@pytest.fixture
def site() -> Iterator[Site]:
    served = Site()
    yield served
    served.stop()


@pytest.fixture
def other_site() -> Iterator[Site]:
    served = Site()
    yield served
    served.stop()
