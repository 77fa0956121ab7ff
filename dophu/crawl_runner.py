"""Runs ``dophu crawl`` as a subprocess with a time limit, relaying its log lines.

Scrapy's reactor cannot restart in a process, so every pass is a child process
(``python -m dophu.cli --config C --data D crawl --json --source ...``). The child
is stopped (SIGTERM, then SIGKILL) when it outlives its time limit or the service
stops, and dies with its parent (``PR_SET_PDEATHSIG``). Its stderr lines go into
the service's log with ``source`` and ``url``; its peak memory (``ru_maxrss``) is
measured. A pass that was killed or crashed has written no source state, so the
runner records the error in each of its sources' states and backs them off.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from dophu.config import Source
from dophu.logs import SourceMatcher, fields_of_line, level_of_line, starts_record
from dophu.models import SourceState

log = logging.getLogger("dophu.crawl")

BUSY_MARK = "another crawl pass is running"
TERM_GRACE_SECONDS = 15.0
MAX_STDOUT_BYTES = 16 * 1024 * 1024
MAX_BACKOFF = timedelta(days=1)
RECENT_ERRORS = 20
MAX_RECORD_LINES = 200
_RESERVED = {"msg", "message", "level", "ts", "logger", "args", "name", "exc", "exc_info",
             "levelname", "levelno", "asctime", "created", "stack_info", "lineno", "module",
             "pathname", "filename", "funcName", "process", "thread", "threadName",
             "processName", "msecs", "relativeCreated", "exc_text", "taskName"}

try:    # resolved before any fork: the child must not import or allocate
    _prctl: Any = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):    # not Linux
    _prctl = None
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class CrawlOutcome:
    """What one crawl subprocess did."""

    sources: list[str]
    outcome: str                     # ok | timeout | failed | busy | stopped
    exit_code: int | None
    started_at: datetime
    seconds: float
    max_rss_kb: int | None
    summary: dict[str, Any] | None = None
    error: str | None = None
    stderr_tail: list[str] = field(default_factory=list)

    @property
    def new_items(self) -> int | None:
        return None if self.summary is None else int(self.summary.get("new", 0))


def crawl_command(config_dir: Path, data_dir: Path, source_ids: Sequence[str] = (), *,
                  all_sources: bool = False) -> list[str]:
    command = [sys.executable, "-m", "dophu.cli", "--config", str(config_dir),
               "--data", str(data_dir), "--log-json", "crawl", "--json"]
    if all_sources:
        command.append("--all")
    for source_id in source_ids:
        command += ["--source", source_id]
    return command


def _child_env() -> dict[str, str]:
    """This checkout first on the path, so the child runs the same code as the parent."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([root, *[p for p in parts if p != root]])
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("COLUMNS", "200")
    return env


class _Relay(threading.Thread):
    """Reads the child's stderr line by line into the service's log."""

    def __init__(self, stream: IO[bytes], matcher: SourceMatcher, group: list[Source]):
        super().__init__(name="crawl-log-relay", daemon=True)
        self.stream = stream
        self.matcher = matcher
        self.group = group
        self.default_source = group[0].id if len(group) == 1 else ",".join(s.id for s in group)
        self.homes = {s.id: s.home for s in group}
        self.tail: deque[str] = deque(maxlen=40)

    def run(self) -> None:
        """A line that starts a record (Scrapy's, a JSON one) closes the one before; other
        lines (a traceback) belong to the record they follow."""
        pending: list[str] = []
        for raw in iter(self.stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            if not line:
                continue
            self.tail.append(line)
            if pending and (starts_record(line) or len(pending) >= MAX_RECORD_LINES):
                self.emit("\n".join(pending))
                pending = []
            pending.append(line)
        if pending:
            self.emit("\n".join(pending))

    def emit(self, line: str) -> None:
        fields = fields_of_line(line, self.matcher, self.default_source)
        level = level_of_line(fields)
        fields.setdefault("url", self.homes.get(str(fields.get("source"))))
        extra = {(f"child_{k}" if k in _RESERVED else k): v for k, v in fields.items()
                 if k not in ("msg", "level", "ts")}
        log.log(level, "%s", fields.get("msg", line), extra=extra)


class _Collect(threading.Thread):
    def __init__(self, stream: IO[bytes]):
        super().__init__(name="crawl-stdout", daemon=True)
        self.stream = stream
        self.data = bytearray()

    def run(self) -> None:
        for chunk in iter(lambda: self.stream.read(65536), b""):
            if len(self.data) < MAX_STDOUT_BYTES:
                self.data += chunk


def _reap(pid: int, block: bool) -> tuple[int, int] | None:
    """(exit code, peak RSS in KiB) once the child has ended; None while it runs."""
    try:
        got, status, usage = os.wait4(pid, 0 if block else os.WNOHANG)
    except ChildProcessError:
        return -1, 0
    if got == 0:
        return None
    return os.waitstatus_to_exitcode(status), int(usage.ru_maxrss)


def run_crawl_process(config_dir: Path, data_dir: Path, group: list[Source], *,
                      time_limit: float, all_sources: bool = False,
                      stop: threading.Event | None = None,
                      matcher: SourceMatcher | None = None,
                      term_grace: float = TERM_GRACE_SECONDS,
                      on_start: Callable[[int], None] | None = None) -> CrawlOutcome:
    """One crawl pass over ``group`` (or ``--all``) in a child process; waits for it."""
    ids = [s.id for s in group]
    command = crawl_command(config_dir, data_dir, [] if all_sources else ids,
                            all_sources=all_sources)
    started = datetime.now(UTC)
    clock = time.monotonic()
    try:
        child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, env=_child_env(),
                                 preexec_fn=_die_with_parent)  # noqa: PLW1509
    except OSError as exc:
        return CrawlOutcome(ids, "failed", None, started, 0.0, None,
                            error=f"cannot start the crawl process: {exc}")
    if on_start is not None:
        on_start(child.pid)
    assert child.stdout is not None and child.stderr is not None
    relay = _Relay(child.stderr, matcher or SourceMatcher(group), group)
    collect = _Collect(child.stdout)
    relay.start()
    collect.start()
    deadline = clock + time_limit
    reason: str | None = None
    result = None
    while result is None:
        result = _reap(child.pid, block=False)
        if result is not None:
            break
        if reason is None and time.monotonic() >= deadline:
            reason = "timeout"
        elif reason is None and stop is not None and stop.is_set():
            reason = "stopped"
        if reason is not None:
            result = _stop_child(child.pid, term_grace)
            break
        time.sleep(0.2)
    code, rss = result
    child.returncode = code          # reaped here, not by Popen
    relay.join(timeout=10)
    collect.join(timeout=10)
    with contextlib.suppress(OSError):
        child.stdout.close()
        child.stderr.close()
    seconds = round(time.monotonic() - clock, 3)
    tail = list(relay.tail)
    outcome = CrawlOutcome(ids, "ok", code, started, seconds, rss or None, stderr_tail=tail)
    if reason == "timeout":
        outcome.outcome = "timeout"
        outcome.error = (f"crawl pass timed out: stopped after {time_limit:.0f} s "
                         f"(sources {', '.join(ids)})")
        return outcome
    if reason == "stopped":
        outcome.outcome = "stopped"
        outcome.error = "the service stopped during the pass"
        return outcome
    if code == 0:
        try:
            outcome.summary = json.loads(bytes(collect.data).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            outcome.outcome = "failed"
            outcome.error = "the crawl process printed no JSON summary"
        return outcome
    last = next((line for line in reversed(tail) if line.strip()), "")
    last = str(fields_of_line(last).get("msg", last))
    if code == 1 and BUSY_MARK in "\n".join(tail):
        outcome.outcome = "busy"
        outcome.error = last or BUSY_MARK
        return outcome
    outcome.outcome = "failed"
    how = f"killed by signal {-code}" if code < 0 else f"exit {code}"
    outcome.error = f"crawl process failed ({how})" + (f": {last[:300]}" if last else "")
    return outcome


def _stop_child(pid: int, grace: float) -> tuple[int, int]:
    """SIGTERM (Scrapy closes the pass and writes what it has), SIGKILL if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    until = time.monotonic() + grace
    while time.monotonic() < until:
        result = _reap(pid, block=False)
        if result is not None:
            return result
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    return _reap(pid, block=True) or (-signal.SIGKILL, 0)


def backoff_due(source: Source, failures: int, now: datetime) -> datetime:
    """The next try of a failing source: its interval doubled per failure, at most a day."""
    interval = timedelta(seconds=source.interval_seconds)
    if failures <= 0:
        return now + interval
    return now + min(interval * (2 ** min(failures, 16)), max(MAX_BACKOFF, interval))


def failed_state(state: SourceState | None, source: Source, kind: str, message: str,
                 now: datetime) -> SourceState:
    """``state`` after a pass that could not finish: one more failure, the error, a back-off."""
    base = state.model_dump() if state is not None else {"source_id": source.id}
    failures = int(base.get("consecutive_failures") or 0) + 1
    recent = [{"url": source.home or "", "kind": kind, "message": message,
               "at": now.isoformat()}, *(base.get("recent_errors") or [])][:RECENT_ERRORS]
    base.update({"last_attempt": now, "consecutive_failures": failures,
                 "last_error": f"{kind}: {message}", "recent_errors": recent,
                 "next_due": backoff_due(source, failures, now), "status": "failing"})
    return SourceState.model_validate(base)


__all__ = ["BUSY_MARK", "CrawlOutcome", "backoff_due", "crawl_command", "failed_state",
           "run_crawl_process"]
