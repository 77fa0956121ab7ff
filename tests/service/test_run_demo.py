"""The acceptance run: ``dophu run`` against the demo sites with short intervals, killed
with SIGKILL in the middle of a crawl, restarted, edited badly while running, stopped;
and ``dophu demo --no-serve`` end to end."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from rich.console import Console

from demo.manifest import articles, weeks_with_all_sites
from demo.server import DemoSites
from dophu.context import Context
from dophu.demo import DemoResult, serve_pages
from tests.conftest import REPO
from tests.service.conftest import LineReader, ServiceEnv, kill_group, wait_for

NOT_STORED = ("error500", "slow", "disallowed")     # the ward site's pages nobody can have
EXPECTED_ITEMS = len([a for a in articles() if a.quirk not in NOT_STORED])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def demo_sites() -> Iterator[DemoSites]:
    with DemoSites(slow_seconds=4.0) as sites:
        yield sites


def _all_crawled(env: ServiceEnv) -> bool:
    if not env.store_path.exists():
        return False
    states = env.source_states()
    return len(states) == 4 and all(s.get("last_success") for s in states.values())


def _health(port: int) -> dict[str, Any] | None:
    try:
        answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
    except httpx.HTTPError:
        return None
    return answer.json() if answer.status_code == 200 else None


def test_run_kill_restart_against_the_demo_sites(demo_sites: DemoSites,
                                                 tmp_path: Path) -> None:
    env = ServiceEnv(tmp_path)
    sources = [{**s, "interval": "20s"} for s in demo_sites.sources()]
    env.sources(sources)
    env.settings(service={"tick_seconds": 1, "config_check_seconds": 1,
                          "crawl_group_size": 2, "jitter_seconds": 2})
    port = free_port()

    # 1. start, and kill -9 (the service and its crawl subprocess) in the middle of a crawl
    first = env.popen("run", "--port", str(port))
    log = LineReader(first.stderr)
    log.wait_for(r"crawl pass starting", timeout=90)
    wait_for(lambda: env.store_path.exists() and len(env.items()) > 0 or first.poll(),
             timeout=90, what="the first items of the first pass", every=0.05)
    kill_group(first)
    assert env.integrity() == "ok"
    killed_with = len(env.items())
    assert 0 < killed_with < EXPECTED_ITEMS

    # 2. restart: the work is finished, nothing twice; the API answers from the same process
    second = env.popen("run", "--port", str(port))
    log = LineReader(second.stderr)
    try:
        wait_for(lambda: _all_crawled(env), timeout=180, what="every source crawled")
        health = wait_for(lambda: _health(port), timeout=60, what="/healthz")
        assert health["status"] == "ok" and health["service"]["config"]["ok"] is True
        reports = env.data / "reports"
        wait_for(lambda: len(list(reports.glob("dophu-*.*"))) == 4, timeout=60,
                 what="the weekly report in four formats")
        items = env.items()
        assert len(items) == EXPECTED_ITEMS
        assert len({url for _, url, _ in items}) == EXPECTED_ITEMS
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=30)
        assert page.status_code == 200 and "<html" in page.text.lower()

        # 3. a bad edit while running: reported, the last good config stays in use
        good = (env.config / "sources.yaml").read_text(encoding="utf-8")
        edited_at = datetime.now(UTC).isoformat()
        (env.config / "sources.yaml").write_text(good.replace("unit: bao-can-tho",
                                                              "unit: khong-co"),
                                                 encoding="utf-8")
        health = wait_for(lambda: (h := _health(port)) and not h["service"]["config"]["ok"]
                          and h, timeout=30, what="the config error in /healthz")
        assert "sources.yaml" in health["service"]["config"]["error"]
        assert "khong-co" in health["service"]["config"]["error"]
        # the sources keep being crawled on their 20 s interval with the old config
        wait_for(lambda: any(run["started_at"] > edited_at and run["outcome"] == "ok"
                             for run in env.status()["crawl_runs"]),
                 timeout=120, what="a crawl pass after the bad edit")
        (env.config / "sources.yaml").write_text(good, encoding="utf-8")
        wait_for(lambda: (h := _health(port)) and h["service"]["config"]["ok"], timeout=30,
                 what="the config fixed")
    finally:
        second.send_signal(signal.SIGTERM)                     # systemd's stop
        try:
            code = second.wait(timeout=60)
        finally:
            if second.poll() is None:
                kill_group(second)
    assert code == 0, log.text()[-3000:]
    assert "stopped" in log.text()
    assert "Traceback" not in log.text()

    # 4. what is left: an intact store, each item once, whole reports, written once
    assert env.integrity() == "ok"
    items = env.items()
    assert len(items) == len({url for _, url, _ in items}) == EXPECTED_ITEMS
    for path in (env.data / "reports").iterdir():
        if path.suffix == ".json":
            assert json.loads(path.read_text(encoding="utf-8"))["week"]
        elif path.suffix == ".xlsx":
            assert zipfile.is_zipfile(path)
    with sqlite3.connect(env.data / "service.sqlite3") as conn:
        assert conn.execute("SELECT count(*) FROM report_weeks").fetchone()[0] == 1
    runs = env.status()["crawl_runs"]
    assert all(run["max_rss_kb"] for run in runs if run["outcome"] == "ok")


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("demo") / "out"
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "dophu.cli", "--config", str(REPO / "config"), "demo",
         "--no-serve", "--out", str(out)],
        capture_output=True, text=True, cwd=REPO, timeout=300,
        env=ServiceEnv.environment(COLUMNS="160"))
    return {"out": out, "done": done, "seconds": time.monotonic() - started}


def test_demo_no_serve_writes_the_reports_and_a_summary(demo_out: dict[str, Any]) -> None:
    done, out = demo_out["done"], demo_out["out"]
    assert done.returncode == 0, done.stderr[-3000:]
    weeks = weeks_with_all_sites()
    files = sorted(p.name for p in out.glob("dophu-*"))
    assert files == sorted(f"dophu-{w}.{ext}" for w in weeks
                           for ext in ("html", "xlsx", "md", "json"))
    for week in weeks:
        report = json.loads((out / f"dophu-{week}.json").read_text(encoding="utf-8"))
        assert report["week"] == week and report["totals"]["items"] > 0
        assert str(out / f"dophu-{week}.html") in done.stdout        # paths in the summary
    assert "Báo cáo tuần" in done.stdout and "Thu thập từ các trang demo" in done.stdout
    assert f"Đã thu thập {EXPECTED_ITEMS} tin bài" in done.stdout
    # the demo config: the default plan, the demo sites, no politeness delay
    config = out / "demo-config"
    assert len(list((config / "plans").glob("*.yaml"))) == 1
    assert "127.0.0.1" in (config / "sources.yaml").read_text(encoding="utf-8")
    assert "download_delay: 0" in (config / "settings.yaml").read_text(encoding="utf-8")
    with sqlite3.connect(out / "demo-data" / "dophu.sqlite3") as conn:
        assert conn.execute("SELECT count(*) FROM items").fetchone()[0] == EXPECTED_ITEMS
        assert conn.execute("SELECT count(*) FROM items WHERE relevant IS NULL"
                            ).fetchone()[0] == 0                      # everything tagged


def test_demo_serves_the_pages_until_stopped(demo_out: dict[str, Any]) -> None:
    out = demo_out["out"]
    context = Context(config_dir=out / "demo-config", data_dir=out / "demo-data")
    result = DemoResult(context.config_dir, context.data_dir, crawl=None)  # type: ignore[arg-type]
    week = SimpleNamespace(report=SimpleNamespace(date_from=date(2025, 8, 18),
                                                  date_to=date(2025, 8, 24)))
    result.reports = {"2025-W34": week, "2025-W36": SimpleNamespace(report=SimpleNamespace(
        date_from=date(2025, 9, 1), date_to=date(2025, 9, 7)))}  # type: ignore[dict-item]
    stop = threading.Event()
    console = Console(record=True, width=160)
    thread = threading.Thread(target=serve_pages, args=(context, "127.0.0.1", free_port(),
                                                        console, result, stop))
    thread.start()
    try:
        url = wait_for(lambda: result.url, timeout=60, what="the demo's URL")
        page = httpx.get(url, timeout=30)
        assert page.status_code == 200 and "tìm" in page.text.lower()
        found = httpx.get(url + "api/items", params={"q": "Cần Thơ"}, timeout=30).json()
        assert found["total"] > 0
        printed = console.export_text()
        assert url in printed
        review = f"{url}review?from=2025-08-18&to=2025-09-07"
        assert review in printed                    # the link covers the demo's weeks
        queue = httpx.get(review, timeout=60)
        assert queue.status_code == 200 and 'data-item="' in queue.text
    finally:
        stop.set()
        thread.join(timeout=30)
        context.close()
    assert not thread.is_alive()
