"""Sources that hang, answer garbage, redirect for ever, serve 1 GB or a gzip bomb: each gets
an error in its SourceState, the good source finishes, and the crawl processes' memory
stays bounded (their peak RSS, measured by the scheduler with ``wait4``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from demo.server import DemoSites
from tests.service.conftest import ServiceEnv
from tests.service.faulty_sites import GIB, FaultySites

GOOD = "demo-canthotv"
MAX_RSS_MB = 600          # a normal pass peaks near 220 MB here (Python, Scrapy, the model)


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("faulty")
    env = ServiceEnv(root)
    # The hanging site is left to the scheduler's time limit (the download timeout is
    # longer than the pass): its subprocess is stopped and the error recorded for it.
    env.settings(crawl={"timeout_seconds": 60, "pass_time_limit_seconds": 12},
                 service={"crawl_group_size": 1, "crawl_kill_grace_seconds": 3})
    with DemoSites() as demo, FaultySites(root) as bad:
        good = [s for s in demo.sources() if s["id"] == GOOD]
        env.sources(good + list(bad.sources()))
        done = env.run("run", "--once", timeout=400)
        yield {"env": env, "done": done, "bad": bad,
               "sent": {k: s.bytes_sent for k, s in bad.servers.items()}}


def test_the_good_source_finishes(faulty_run: dict[str, Any]) -> None:
    env: ServiceEnv = faulty_run["env"]
    assert faulty_run["done"].returncode == 0, faulty_run["done"].stderr[-3000:]
    states = env.source_states()
    assert states[GOOD]["consecutive_failures"] == 0 and states[GOOD]["last_success"]
    from demo.manifest import articles

    stored = [url for _, url, source in env.items() if source == GOOD]
    assert len(stored) == len(articles(GOOD)) == len(set(stored))
    assert env.integrity() == "ok"


@pytest.mark.parametrize("kind, error", [
    ("hang", "pass timeout"),
    ("garbage", "parse"),
    ("loop", "redirect"),
    ("huge", "error"),
    ("bomb", "DOWNLOAD_MAXSIZE"),
])
def test_each_faulty_source_gets_an_error(faulty_run: dict[str, Any], kind: str,
                                          error: str) -> None:
    env: ServiceEnv = faulty_run["env"]
    state = env.source_states()[f"faulty-{kind}"]
    assert state["consecutive_failures"] == 1
    assert error in state["last_error"], state["last_error"]
    assert state["status"] == "failing" and state["next_due"]
    assert not [1 for _, _, source in env.items() if source == f"faulty-{kind}"]


def test_memory_stays_bounded_and_nothing_is_read_whole(faulty_run: dict[str, Any]) -> None:
    env: ServiceEnv = faulty_run["env"]
    runs = env.status()["crawl_runs"]
    assert len(runs) == 6                      # one subprocess per source (group size 1)
    by_source = {run["sources"][0]: run for run in runs}
    for source, run in by_source.items():
        assert run["max_rss_kb"] and run["max_rss_kb"] / 1024 < MAX_RSS_MB, (source, run)
    assert by_source["faulty-hang"]["outcome"] == "timeout"
    assert all(run["outcome"] == "ok" for s, run in by_source.items() if s != "faulty-hang")
    # the 1 GB page was dropped after the size limit, far before its end
    assert faulty_run["sent"]["huge"] < GIB // 10


def test_the_log_names_source_and_url(faulty_run: dict[str, Any]) -> None:
    stderr = faulty_run["done"].stderr
    bomb = faulty_run["bad"].url("bomb")
    lines = [line for line in stderr.splitlines() if "dophu.crawl:" in line]
    missing = [line for line in lines if not ("source=" in line and "url=" in line)]
    assert lines and not missing, missing[:5]
    assert any("source=faulty-bomb" in line and f"url={bomb}" in line for line in lines)


def test_a_failing_source_waits_for_its_back_off(faulty_run: dict[str, Any],
                                                 tmp_path: Path) -> None:
    env: ServiceEnv = faulty_run["env"]
    done = env.run("run", "--once", timeout=120)     # right away: nothing is due yet
    assert done.returncode == 0, done.stderr[-2000:]
    assert "crawled 0 source(s)" in done.stderr
