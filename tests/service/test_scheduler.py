"""What is due and how it is grouped, the one-scheduler lock, and config edits while running."""

from __future__ import annotations

import fcntl
import os
from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from dophu.config import ConfigError
from dophu.crawl_runner import failed_state
from dophu.live_config import LiveConfig
from dophu.models import SourceState
from dophu.runlock import is_locked, lock_path, scheduler_lock
from dophu.scheduler import Service, jitter_seconds
from dophu.web_host import ServiceApp, build_api
from tests.service.conftest import ServiceEnv

NOW = datetime(2025, 5, 5, 3, 0, tzinfo=UTC)


def local_sources(count: int) -> list[dict[str, str]]:
    """Crawlable-looking sources (these tests never start a crawl)."""
    return [{"id": f"site-{i}", "name": f"Site {i}", "unit": "bao-can-tho", "kind": "newspaper",
             "home": f"http://127.0.0.1:9/{i}/", "interval": "30m"} for i in range(count)]


def test_jitter_is_fixed_per_source_and_due_time_and_bounded() -> None:
    offsets = {jitter_seconds(f"s{i}", "2025-05-05T03:00:00+00:00", 120) for i in range(50)}
    assert all(0 <= o <= 120 for o in offsets) and len(offsets) > 20    # spread out
    assert jitter_seconds("s1", "a", 120) == jitter_seconds("s1", "a", 120)  # restart-stable
    assert jitter_seconds("s1", "a", 0) == 0


def test_due_sources_follow_state_backoff_and_jitter(env: ServiceEnv) -> None:
    env.sources(local_sources(6))
    env.settings(service={"jitter_seconds": 60, "crawl_group_size": 2})
    service = Service(env.config, env.data, clock=lambda: NOW)
    service.start_up()
    try:
        sources = {s.id: s for s in service.context.sources}
        # never crawled: due within the jitter from the start, not all at the same second
        first = {sid: service.due_at(s, None) for sid, s in sources.items()}
        assert all(NOW <= t <= NOW + timedelta(seconds=60) for t in first.values())
        assert len(set(first.values())) > 1
        states = {
            "site-0": SourceState(source_id="site-0", next_due=NOW - timedelta(minutes=5)),
            "site-1": SourceState(source_id="site-1", next_due=NOW + timedelta(minutes=5)),
            "site-2": failed_state(None, sources["site-2"], "timeout", "x",
                                   NOW - timedelta(hours=2)),
            "site-3": SourceState.model_validate({
                "source_id": "site-3", "next_due": NOW + timedelta(minutes=20),
                "last_attempt": NOW - timedelta(minutes=10),
                "crawl_requested_at": (NOW - timedelta(minutes=1)).isoformat()}),
            "site-4": SourceState(source_id="site-4", next_due=NOW - timedelta(minutes=1)),
            "site-5": failed_state(None, sources["site-5"], "timeout", "x",
                                   NOW - timedelta(hours=3)),
        }
        # site-2 failed once 2 h ago: backed off to 2 × 30 min, due again
        assert states["site-2"].next_due == NOW - timedelta(hours=1)
        due = service.due_sources(NOW + timedelta(minutes=1), states)
        assert {s.id for s in due} == {"site-0", "site-2", "site-3", "site-4", "site-5"}
        groups = [[s.id for s in g] for g in service.crawl_groups(due, states)]
        # healthy sources share a process, two at a time; failing ones run alone, last
        assert [len(g) for g in groups] == [2, 1, 1, 1]
        assert set(groups[0] + groups[1]) == {"site-0", "site-3", "site-4"}
        assert sorted(groups[2:]) == [["site-2"], ["site-5"]]
    finally:
        service.close()


def test_failures_back_off_doubling_up_to_a_day(env: ServiceEnv) -> None:
    env.sources(local_sources(1))
    service = Service(env.config, env.data)
    service.start_up()
    source = service.context.sources[0]
    state = None
    waits = []
    for _ in range(8):
        state = failed_state(state, source, "pass timeout", "stopped after 60 s", NOW)
        waits.append(state.next_due - NOW)
    service.close()
    assert waits[:3] == [timedelta(hours=1), timedelta(hours=2), timedelta(hours=4)]
    assert waits[-1] == timedelta(days=1)
    assert state.consecutive_failures == 8 and state.last_error.startswith("pass timeout")
    assert state.recent_errors[0]["kind"] == "pass timeout"


def test_a_second_scheduler_on_the_same_data_dir_exits_1(env: ServiceEnv) -> None:
    with scheduler_lock(env.data):
        assert is_locked(env.data)
        done = env.cli("run", "--once")       # flock: a second open file conflicts too
        assert done.exit_code == 1
        message = done.stderr.strip().splitlines()[-1]
        assert "already running" in message and str(lock_path(env.data)) in message
        assert f"pid {os.getpid()}" in message
    assert not is_locked(env.data)
    done = env.cli("run", "--once")           # the lock went with its holder
    assert done.exit_code == 0, done.stderr


def test_the_lock_is_dropped_when_its_process_dies(env: ServiceEnv) -> None:
    child = env.popen("run", "--no-serve")
    try:
        until = datetime.now() + timedelta(seconds=60)
        while not is_locked(env.data) and datetime.now() < until:
            assert child.poll() is None, child.stderr.read() if child.stderr else ""
        assert is_locked(env.data)
        os.kill(child.pid, 9)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert not is_locked(env.data)
    with lock_path(env.data).open() as handle:         # a stale file, but no lock
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_bad_config_at_start_without_a_good_copy_exits_2(env: ServiceEnv) -> None:
    (env.config / "sources.yaml").write_text("sources:\n  - id: Bad Id\n", encoding="utf-8")
    done = env.run("run", "--once")
    assert done.returncode == 2
    line = done.stderr.strip().splitlines()[-1]
    assert "sources.yaml:2" in line


def test_bad_edit_keeps_the_last_good_config(env: ServiceEnv) -> None:
    env.sources(local_sources(2))
    live = LiveConfig(env.config, env.data)
    live.load_initial()
    snapshot = (live.crawl_config_dir / "sources.yaml").read_text(encoding="utf-8")
    assert "site-1" in snapshot
    good_mtime = (env.config / "sources.yaml").stat().st_mtime_ns
    (env.config / "sources.yaml").write_text(
        "sources:\n  - id: site-0\n    name: S\n    unit: no-such-unit\n    kind: portal\n",
        encoding="utf-8")
    os.utime(env.config / "sources.yaml", ns=(good_mtime + 10**9, good_mtime + 10**9))
    assert live.check() is False
    assert live.error and "sources.yaml" in live.error and "no-such-unit" in live.error
    assert [s.id for s in live.current.sources] == ["site-0", "site-1"]     # still the old
    assert (live.crawl_config_dir / "sources.yaml").read_text(encoding="utf-8") == snapshot
    assert live.status()["ok"] is False
    # a broken plan is caught the same way
    env.sources(local_sources(3))
    plan = next((env.config / "plans").glob("*.yaml"))
    good_plan = plan.read_text(encoding="utf-8")
    plan.write_text(good_plan.replace("themes:", "themes: [", 1), encoding="utf-8")
    assert live.check() is False and live.error and plan.name in live.error
    plan.write_text(good_plan, encoding="utf-8")
    assert live.check() is True                     # fixed: the new sources are in use
    assert live.error is None
    assert [s.id for s in live.current.sources] == ["site-0", "site-1", "site-2"]
    assert "site-2" in (live.crawl_config_dir / "sources.yaml").read_text(encoding="utf-8")


def test_start_on_a_bad_edit_uses_the_last_good_copy(env: ServiceEnv) -> None:
    env.sources(local_sources(2))
    LiveConfig(env.config, env.data).load_initial()          # an earlier run left a copy
    (env.config / "sources.yaml").write_text("sources: [", encoding="utf-8")
    live = LiveConfig(env.config, env.data)
    context = live.load_initial()
    assert [s.id for s in context.sources] == ["site-0", "site-1"]
    assert live.error and "sources.yaml" in live.error
    with pytest.raises(ConfigError):
        LiveConfig(env.config, env.root / "fresh-data").load_initial()


def test_healthz_and_status_show_the_config_error(env: ServiceEnv) -> None:
    service = Service(env.config, env.data)
    service.start_up()
    try:
        app = ServiceApp(build_api, service.context, service.health)
        service.on_config_change.append(app.swap)
        client = TestClient(app)
        health = client.get("/healthz").json()
        assert health["status"] == "ok" and health["service"]["config"]["ok"] is True
        (env.config / "sources.yaml").write_text("sources:\n  - {id: x}\n", encoding="utf-8")
        service.check_config()
        health = client.get("/healthz").json()
        assert health["service"]["config"]["ok"] is False
        assert "sources.yaml" in health["service"]["config"]["error"]
        assert client.get("/api/sources").status_code == 200    # still serving the old config
        status = env.status()
        assert status["config"]["ok"] is False and "sources.yaml" in status["config"]["error"]
        env.sources(local_sources(1))
        assert service.check_config() is True
        assert client.get("/healthz").json()["service"]["config"]["ok"] is True
        ids = [s["id"] for s in client.get("/api/sources").json()["sources"]]
        assert ids == ["site-0"]                                 # the rebuilt app's sources
    finally:
        service.close()
