"""The disk fills, or the data dir becomes read-only: a clear error, an intact store, and the
work is finished once there is room (or write access) again.

The real faults need a small tmpfs and a read-only bind mount (``mount``, root in a
container that allows it). Tests run as root in CI, where ``chmod`` stops nothing, so
where mounting is not allowed those tests skip and say so; two in-process simulations run
everywhere: SQLite's ``PRAGMA max_page_count`` (the database cannot grow: SQLITE_FULL,
the same error a full disk gives) and ``PRAGMA query_only`` (every write is refused as
on a read-only database). Both act on the store's own connection.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from datetime import datetime
from functools import cache
from pathlib import Path

import pytest

from dophu.dates import LOCAL_TZ
from dophu.importer import import_file
from dophu.scheduler import Service
from store import StoreError
from store.sqlite import SQLiteStore
from tests.service.conftest import ServiceEnv, article_rows, write_jsonl
from tests.service.test_faults_kill import many_rows

WEDNESDAY_W19 = datetime(2025, 5, 7, 10, 0, tzinfo=LOCAL_TZ)     # the W18 report is due


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@cache
def mount_refusal() -> str | None:
    """Why this machine cannot mount a tmpfs (None: it can)."""
    probe = Path("/tmp") / f"dophu-mount-probe-{uuid.uuid4().hex[:8]}"
    probe.mkdir()
    try:
        if shutil.which("mount") is None:
            return "no mount command"
        if not _mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", str(probe)):
            return "mounting a tmpfs is not allowed here (needs root with CAP_SYS_ADMIN)"
        subprocess.run(["umount", str(probe)], check=False)
        return None
    finally:
        probe.rmdir()


needs_mount = pytest.mark.skipif(mount_refusal() is not None,
                                 reason=f"real disk faults need mount: {mount_refusal()}; "
                                        "the PRAGMA simulations below still run")


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    assert _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@contextlib.contextmanager
def read_only_view(source: Path, view: Path) -> Iterator[Path]:
    """``view`` shows ``source`` read-only (a bind mount remounted ro)."""
    view.mkdir(parents=True, exist_ok=True)
    assert _mount("--bind", str(source), str(view))
    try:
        assert _mount("-o", "remount,bind,ro", str(view))
        yield view
    finally:
        subprocess.run(["umount", "-l", str(view)], check=False)


def _fill(directory: Path) -> Path:
    """Writes until the file system says it is full."""
    filler = directory / "filler.bin"
    with contextlib.suppress(OSError), filler.open("wb") as handle:
        while True:
            handle.write(b"\0" * (1 << 20))
            handle.flush()
    return filler


# ---------------------------------------------------------------- the disk fills


@needs_mount
def test_disk_full_during_import_then_room_again(tmp_path: Path) -> None:
    env = ServiceEnv(tmp_path)
    rows = many_rows()
    path = write_jsonl(tmp_path / "big.jsonl", rows)
    with tmpfs(tmp_path / "disk", "4m") as disk:
        env.data = disk / "data"
        done = env.run("import", str(path))
        assert done.returncode == 1
        message = done.stderr.strip().splitlines()[-1]
        assert message.startswith("dophu: store error:") and "full" in message, message
        assert str(env.store_path) in message
        assert env.integrity() == "ok"
        stored = len(env.items())
        assert stored < len(rows)
        assert _mount("-o", "remount,size=256m", str(disk))     # room again
        done = env.run("import", str(path), "--json")
        assert done.returncode == 0, done.stderr
        items = env.items()
        assert len(items) == len({url for _, url, _ in items}) == len(rows)
        assert env.integrity() == "ok"


@needs_mount
def test_disk_full_while_writing_reports(imported_env: ServiceEnv) -> None:
    env = imported_env
    service = Service(env.config, env.data, clock=lambda: WEDNESDAY_W19)
    service.start_up()
    try:
        with tmpfs(env.data / "reports", "1m") as reports:
            filler = _fill(reports)
            result = service.run_due()
            assert result.weeks == [] and len(result.failures) == 1
            assert "2025-W18" in result.failures[0]
            assert "No space left on device" in result.failures[0]
            assert sorted(p.name for p in reports.iterdir()) == ["filler.bin"]  # no half file
            filler.unlink()
            assert service.run_due().weeks == ["2025-W18"]
            assert len(list(reports.glob("dophu-2025-W18.*"))) == 4
    finally:
        service.close()


def test_database_cannot_grow_simulated_with_max_page_count(env: ServiceEnv,
                                                            tmp_path: Path) -> None:
    """Loop-free stand-in for a full disk: SQLite refuses to grow the file (SQLITE_FULL)."""
    rows = write_jsonl(tmp_path / "rows.jsonl", many_rows()[:1200])
    store = SQLiteStore(env.store_path)
    sources = _import_sources(env)
    try:
        pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
        store._conn.execute(f"PRAGMA max_page_count = {pages + 1000}")  # ~750 items
        with pytest.raises(StoreError, match="full"):
            import_file(rows, store, sources)
        stored = store.count()
        assert 0 < stored < 1200                     # whole batches only
        assert store.integrity_check() == "ok"
        store._conn.execute("PRAGMA max_page_count = 1073741823")
        report = import_file(rows, store, sources)
        assert report.new == 1200 - stored and store.count() == 1200
        assert store.integrity_check() == "ok"
    finally:
        store.close()


def _import_sources(env: ServiceEnv) -> list:
    from dophu.context import Context

    return list(Context(config_dir=env.config, data_dir=env.data).sources)


# ---------------------------------------------------------------- read-only data dir


@needs_mount
def test_read_only_data_dir_is_a_clear_error(imported_env: ServiceEnv, tmp_path: Path) -> None:
    env = imported_env
    before = sorted(env.items())
    rows = write_jsonl(tmp_path / "new.jsonl", [
        {**article_rows(1)[0], "url": "https://import.example/new"}])
    with read_only_view(env.data, tmp_path / "ro") as view:
        viewed = ServiceEnv.__new__(ServiceEnv)
        viewed.__dict__.update(env.__dict__, data=view)
        done = viewed.run("run", "--once")
        assert done.returncode == 1
        line = done.stderr.strip().splitlines()[-1]
        assert "Read-only file system" in line and str(view) in line
        done = viewed.run("import", str(rows))
        assert done.returncode == 1
        line = done.stderr.strip().splitlines()[-1]
        assert line.startswith("dophu: store error:") and str(view) in line
        assert "Traceback" not in done.stderr
    assert env.integrity() == "ok"
    assert sorted(env.items()) == before


@needs_mount
def test_reports_dir_turns_read_only_while_running(imported_env: ServiceEnv) -> None:
    """The service keeps running and reports the error; once the dir is writable again the
    due report is written. (A mount with files open for writing, like the store's, cannot
    be remounted read-only from user space, so the reports dir stands in here; the store's
    side is the query_only simulation below.)"""
    env = imported_env
    reports = env.data / "reports"
    reports.mkdir()
    assert _mount("--bind", str(reports), str(reports))
    try:
        service = Service(env.config, env.data, clock=lambda: WEDNESDAY_W19)
        service.start_up()
        try:
            assert _mount("-o", "remount,bind,ro", str(reports))
            result = service.run_due()
            assert result.weeks == []
            assert any("Read-only file system" in f for f in result.failures), result.failures
            assert list(reports.iterdir()) == []
            assert _mount("-o", "remount,bind,rw", str(reports))
            assert service.run_due().weeks == ["2025-W18"]
        finally:
            service.close()
    finally:
        subprocess.run(["umount", "-l", str(reports)], check=False)
    assert len(list(reports.glob("dophu-2025-W18.*"))) == 4
    assert env.integrity() == "ok"


def test_read_only_database_simulated_with_query_only(env: ServiceEnv, tmp_path: Path) -> None:
    """Loop-free stand-in for a read-only data dir: SQLite refuses every write."""
    rows = write_jsonl(tmp_path / "rows.jsonl", article_rows(50))
    store = SQLiteStore(env.store_path)
    sources = _import_sources(env)
    try:
        import_file(rows, store, sources)
        store._conn.execute("PRAGMA query_only = ON")
        with pytest.raises(StoreError, match="readonly"):
            import_file(write_jsonl(tmp_path / "more.jsonl", [
                {**r, "url": r["url"] + "?more"} for r in article_rows(10)]), store, sources)
        assert store.count() == 50 and store.integrity_check() == "ok"
    finally:
        store.close()
