"""Fixtures for the service tests: a config dir with local-only sources, a data dir, and
``dophu`` run the way cron and systemd run it (a subprocess).

No test config names a real web site: sources are the local demo or faulty sites, or
import-only sources (no home, no feeds) that the scheduler never crawls.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import DEFAULT_PLAN, REPO

# Politeness off and retries quick: every site in these tests is ours, on 127.0.0.1.
FAST_CRAWL: dict[str, Any] = {
    "download_delay": 0, "autothrottle": False, "retry_backoff_seconds": 0,
    "timeout_seconds": 2.5, "retries": 1, "concurrency_per_host": 4,
    "contact_url": "https://example.org/dophu-contact",
}
# Sources without anything to crawl: items arrive by `dophu import` only.
IMPORT_SOURCES = {
    "demo-baocantho": {"id": "demo-bao", "name": "Báo (nhập)", "unit": "bao-can-tho",
                       "kind": "newspaper"},
    "demo-canthotv": {"id": "demo-tv", "name": "Đài (nhập)", "unit": "dai-ptth-can-tho",
                      "kind": "broadcaster"},
    "demo-sovhttdl": {"id": "demo-so", "name": "Sở (nhập)", "unit": "so-vhttdl",
                      "kind": "portal"},
    "demo-phuongninhkieu": {"id": "demo-phuong", "name": "Phường (nhập)",
                            "unit": "phuong-ninh-kieu", "kind": "portal"},
}


class ServiceEnv:
    """A config dir (the default plan, our sources, our settings) and a data dir."""

    def __init__(self, root: Path):
        self.root = root
        self.config = root / "config"
        self.data = root / "data"
        (self.config / "plans").mkdir(parents=True, exist_ok=True)
        shutil.copy2(DEFAULT_PLAN, self.config / "plans" / DEFAULT_PLAN.name)
        self.data.mkdir(parents=True, exist_ok=True)
        self.settings()
        self.sources(list(IMPORT_SOURCES.values()))

    def settings(self, crawl: dict[str, Any] | None = None,
                 service: dict[str, Any] | None = None) -> None:
        document = {"crawl": {**FAST_CRAWL, **(crawl or {})},
                    "service": {"jitter_seconds": 0, **(service or {})}}
        (self.config / "settings.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")

    def sources(self, sources: list[dict[str, Any]]) -> None:
        (self.config / "sources.yaml").write_text(
            yaml.safe_dump({"sources": sources}, allow_unicode=True, sort_keys=False),
            encoding="utf-8")

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "dophu.cli", "--config", str(self.config),
                "--data", str(self.data), *args]

    @staticmethod
    def environment(**extra: str) -> dict[str, str]:
        env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200", **extra}
        for name in ("ELASTICSEARCH_URL", "DOPHU_LOG_FORMAT", "DOPHU_CONFIG", "DOPHU_DATA"):
            env.pop(name, None)
        env.update(extra)
        return env

    def run(self, *args: str, timeout: float = 240, env: dict[str, str] | None = None,
            **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command(*args), capture_output=True, text=True, cwd=REPO,
                              env=env or self.environment(), timeout=timeout, **kwargs)

    def cli(self, *args: str) -> Any:
        """``dophu`` in this process (typer's runner): for commands that start no crawl."""
        from typer.testing import CliRunner

        from dophu.cli import app

        return CliRunner().invoke(app, ["--config", str(self.config), "--data",
                                        str(self.data), *args])

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        """A child in its own process group (so a test can kill -9 it and its crawlers)."""
        return subprocess.Popen(self.command(*args), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=REPO,
                                env=env or self.environment(), start_new_session=True)

    @property
    def store_path(self) -> Path:
        return self.data / "dophu.sqlite3"

    def integrity(self) -> str:
        with sqlite3.connect(self.store_path) as conn:
            return conn.execute("PRAGMA integrity_check").fetchone()[0]

    def items(self) -> list[tuple[str, str | None, str]]:
        """(id, url, source) of every stored item, straight from SQLite."""
        with sqlite3.connect(self.store_path) as conn:
            return conn.execute("SELECT id, url, source FROM items").fetchall()

    def status(self) -> dict[str, Any]:
        done = self.cli("status", "--json")
        assert done.exit_code == 0, done.stderr
        return json.loads(done.stdout)

    def source_states(self) -> dict[str, dict[str, Any]]:
        with sqlite3.connect(self.store_path) as conn:
            rows = conn.execute("SELECT source_id, state FROM source_state").fetchall()
        return {sid: json.loads(state) for sid, state in rows}


class LineReader:
    """Collects a child's stream line by line in a thread, so a test can wait for a line."""

    def __init__(self, stream: Any):
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for line in iter(stream.readline, ""):
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    def text(self) -> str:
        with self._lock:
            return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout: float, every: float = 0.2) -> re.Match[str]:
        regex = re.compile(pattern)

        def found() -> re.Match[str] | None:
            with self._lock:
                return next((m for m in map(regex.search, self.lines) if m), None)

        return wait_for(found, timeout, f"a line matching {pattern!r}; got:\n"
                        + self.text()[-3000:], every=every)


def kill_group(child: subprocess.Popen[str]) -> None:
    """kill -9 the child and everything it started (a power cut, an OOM kill)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait(timeout=30)


def wait_for(predicate: Any, timeout: float, what: str, every: float = 0.2) -> Any:
    """Polls ``predicate`` until it returns something true (no fixed sleeps)."""
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def article_rows(limit: int | None = None) -> list[dict[str, Any]]:
    """The demo articles as ``dophu import`` rows of the import-only sources."""
    from demo.manifest import load_articles

    rows = []
    for article in load_articles()[:limit]:
        rows.append({
            "url": f"https://import.example/{article.site}{article.path}",
            "title": article.title,
            "text": "\n".join([article.lead, *article.body]),
            "published_at": article.published.isoformat(),
            "source": IMPORT_SOURCES[article.site]["id"],
        })
    return rows


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    return path


@pytest.fixture
def env(tmp_path: Path) -> ServiceEnv:
    return ServiceEnv(tmp_path)


@pytest.fixture(scope="session")
def imported_template(tmp_path_factory: pytest.TempPathFactory) -> ServiceEnv:
    """Every demo article imported (and tagged) once per test session."""
    root = tmp_path_factory.mktemp("imported")
    service_env = ServiceEnv(root)
    rows = write_jsonl(root / "articles.jsonl", article_rows())
    done = service_env.run("import", str(rows), "--json", timeout=180)
    assert done.returncode == 0, done.stderr
    return service_env


@pytest.fixture
def imported_env(tmp_path: Path, imported_template: ServiceEnv) -> Iterator[ServiceEnv]:
    """An env whose store holds every demo article: a copy of the session's template."""
    service_env = ServiceEnv(tmp_path)
    shutil.rmtree(service_env.data)
    shutil.copytree(imported_template.data, service_env.data)
    yield service_env
