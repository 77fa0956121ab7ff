"""Health bookkeeping: what happened to each source in one pass, and its next state.

A source's pass fails when nothing could be read from it (discovery failed, or
every feed, sitemap and listing page failed); an article that fails is an
error of the source but not a failed pass. Failures push the next due time
back (doubling up to a day) and never disable a source: it shows as failing
in ``dophu sources list`` until it recovers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from dophu.config import Source
from dophu.models import SourceState

MAX_BACKOFF = timedelta(days=1)
RECENT_ERRORS = 20


@dataclass
class ErrorRecord:
    url: str
    kind: str          # "http 500", "timeout", "robots-disallowed", "parse", "too large", ...
    message: str
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def describe(self) -> str:
        return f"{self.kind}: {self.url}" + (f" ({self.message})" if self.message else "")


@dataclass
class SourceRun:
    """Counters and outcomes of one source in one pass."""

    source: Source
    state: SourceState
    fetched: int = 0            # responses received (304s included)
    not_modified: int = 0       # entry points unchanged (304 or same body)
    seen: int = 0               # entries/links read from feeds, sitemaps and listings
    requested: int = 0          # article pages asked for
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0            # pages that were not articles
    capped: bool = False        # max_items_per_source reached: read the entry points again
    entry_ok: set[str] = field(default_factory=set)
    entry_failed: dict[str, str] = field(default_factory=dict)
    validators: dict[str, dict[str, str]] = field(default_factory=dict)
    errors: list[ErrorRecord] = field(default_factory=list)
    discovery_error: str | None = None
    discovered: bool = False

    def error(self, url: str, kind: str, message: str = "") -> ErrorRecord:
        record = ErrorRecord(url, kind, message)
        self.errors.append(record)
        return record

    def entry_point_failed(self, url: str, kind: str, message: str = "") -> None:
        self.entry_failed[url] = kind
        self.error(url, kind, message)

    @property
    def failed(self) -> bool:
        if self.discovery_error:
            return True
        return bool(self.entry_failed) and not self.entry_ok

    def summary(self) -> dict[str, Any]:
        return {"id": self.source.id, "fetched": self.fetched, "new": self.new,
                "updated": self.updated, "errors": len(self.errors),
                "unchanged": self.unchanged, "not_modified": self.not_modified,
                "seen": self.seen, "skipped": self.skipped,
                "status": "failed" if self.failed else "ok",
                "last_error": self.errors[-1].describe() if self.errors else None}


def next_due(source: Source, failures: int, now: datetime) -> datetime:
    interval = timedelta(seconds=source.interval_seconds)
    if failures <= 0:
        return now + interval
    backoff = min(interval * (2 ** min(failures, 16)), max(MAX_BACKOFF, interval))
    return now + backoff


def finish_state(run: SourceRun, now: datetime, *, complete: bool = True) -> SourceState:
    """The source's state after this pass; validators are kept only for entry points read
    to the end (a capped or interrupted pass reads them in full next time)."""
    state = run.state.model_copy(deep=True)
    state.last_attempt = now
    if run.failed:
        state.consecutive_failures += 1
    else:
        state.consecutive_failures = 0
        state.last_success = now
    state.last_error = run.discovery_error or (
        run.errors[-1].describe() if run.errors else None)
    state.last_run = {"fetched": run.fetched, "seen": run.seen, "new": run.new,
                      "updated": run.updated, "unchanged": run.unchanged,
                      "errors": len(run.errors), "not_modified": run.not_modified,
                      "skipped": run.skipped}
    state.next_due = next_due(run.source, state.consecutive_failures, now)
    if complete and not run.capped:
        for url, validators in run.validators.items():
            state.http_cache[url] = validators
    failures: dict[str, int] = {} if run.discovered else dict(
        getattr(state, "entry_failures", None) or {})
    for url in run.entry_ok:
        failures.pop(url, None)
    for url in run.entry_failed:
        failures[url] = failures.get(url, 0) + 1
    recent = list(getattr(state, "recent_errors", None) or [])
    recent = [*({"url": e.url, "kind": e.kind, "message": e.message, "at": e.at.isoformat()}
                for e in reversed(run.errors)), *recent][:RECENT_ERRORS]     # newest first
    state_extra = {"entry_failures": failures, "recent_errors": recent,
                   "status": "failing" if state.consecutive_failures else (
                       "ok" if run.new or run.updated else "no-new-items")}
    return SourceState.model_validate({**state.model_dump(), **state_extra})


def new_state(source_id: str) -> SourceState:
    return SourceState(source_id=source_id)
