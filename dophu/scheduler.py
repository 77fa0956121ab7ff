"""The scheduler behind ``dophu run``: crawl each source when due, write the weekly report,
keep the last good config.

What is due is always worked out from persisted facts, never from an in-memory timer:
a source is due at its ``SourceState.next_due`` (the crawler sets it from the
source's interval and backs it off after failures) plus a per-source jitter; a week
is due when its report time has passed and ``ServiceState`` has no record of it. So a
restart neither loses nor repeats a due job, and ``--once`` (cron) and the
long-running service do the same work. APScheduler (3.x) only decides *when* to
look: a tick for crawls and reports, a cron trigger at the report time, a config
check.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dophu.config import Source
from dophu.context import Context
from dophu.crawl_runner import CrawlOutcome, failed_state, run_crawl_process
from dophu.dates import DateParseError, parse_datetime
from dophu.files import WriteError, remove_stale_temps
from dophu.live_config import LiveConfig
from dophu.logs import SourceMatcher
from dophu.models import SourceState
from dophu.service_state import CrawlRun, ServiceState, ServiceStateError
from dophu.weekly_job import REPORTS_DIRNAME, due_weeks, next_due_moment, write_weekly_reports
from store import QueryError, StoreError

log = logging.getLogger("dophu.scheduler")


def jitter_seconds(source_id: str, anchor: str, spread: int) -> int:
    """A fixed offset in [0, spread] per source and due time: sources due together start
    apart, and a restart picks the same offset (no reshuffle, no second run)."""
    if spread <= 0:
        return 0
    digest = hashlib.sha1(f"{source_id}|{anchor}".encode()).hexdigest()
    return int(digest[:8], 16) % (spread + 1)


def _as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        return parse_datetime(str(value))
    except DateParseError:
        return None


@dataclass
class RunResult:
    """What one ``run_due`` did (``--once`` prints it and exits 1 on ``failures``)."""

    crawls: list[CrawlOutcome] = field(default_factory=list)
    weeks: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


class Service:
    """The service's jobs, each safe to call at any time from any thread."""

    def __init__(self, config_dir: Path, data_dir: Path, *,
                 clock: Callable[[], datetime] | None = None, spread_first: bool = True):
        self.data_dir = Path(data_dir)
        self.config = LiveConfig(Path(config_dir), self.data_dir)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.spread_first = spread_first
        self.stop_event = threading.Event()
        self.started_at = self.clock()
        self.failures: list[str] = []
        self.on_config_change: list[Callable[[Context], None]] = []
        self.crawl_pid: int | None = None
        self._crawl_lock = threading.Lock()
        self._report_lock = threading.Lock()
        self._state: ServiceState | None = None

    # ------------------------------------------------------------ set-up
    @property
    def context(self) -> Context:
        assert self.config.current is not None, "start_up() first"
        return self.config.current

    @property
    def state(self) -> ServiceState:
        if self._state is None:
            self._state = ServiceState(self.data_dir)
        return self._state

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / REPORTS_DIRNAME

    def start_up(self) -> Context:
        """Loads the config (or the last good copy), opens the state, tidies half-writes."""
        context = self.config.load_initial()
        _ = self.state
        for stale in remove_stale_temps(self.reports_dir):
            log.info("removed a report file a killed run left half-written: %s", stale)
        self.publish_status()
        return context

    def close(self) -> None:
        if self._state is not None:
            self._state.close()
        if self.config.current is not None:
            self.config.current.close()

    def _fail(self, what: str, message: str) -> None:
        self.failures.append(f"{what}: {message}")
        log.error("%s failed: %s", what, message, extra={"job": what})

    def publish_status(self) -> None:
        try:
            self.state.set_status("config", self.config.status())
            self.state.set_status("service", {"started_at": self.started_at.isoformat(),
                                              "heartbeat": self.clock().isoformat()})
        except ServiceStateError as exc:
            log.error("%s", exc)

    # ------------------------------------------------------------ config
    def check_config(self) -> bool:
        changed = self.config.check()
        if changed:
            for callback in self.on_config_change:
                try:
                    callback(self.context)
                except Exception:  # noqa: BLE001 - one listener must not stop the others
                    log.exception("applying the new config failed")
        self.publish_status()
        return changed

    # ------------------------------------------------------------ crawling
    def due_at(self, source: Source, state: SourceState | None) -> datetime:
        spread = self.context.settings.service.jitter_seconds
        if state is None or state.next_due is None:
            offset = jitter_seconds(source.id, "first", spread) if self.spread_first else 0
            return self.started_at + timedelta(seconds=offset)
        requested = _as_datetime(getattr(state, "crawl_requested_at", None))
        if requested is not None and (state.last_attempt is None
                                      or requested > state.last_attempt):
            return min(requested, state.next_due)       # "crawl now" from the API: no jitter
        anchor = state.next_due.isoformat()
        return state.next_due + timedelta(seconds=jitter_seconds(source.id, anchor, spread))

    def due_sources(self, now: datetime, states: dict[str, SourceState]) -> list[Source]:
        due = [(self.due_at(s, states.get(s.id)), s) for s in self.context.sources
               if s.enabled and s.crawlable]
        return [s for when, s in sorted(due, key=lambda pair: pair[0]) if when <= now]

    def crawl_groups(self, due: list[Source], states: dict[str, SourceState]
                     ) -> list[list[Source]]:
        """Healthy sources share a subprocess (a few per group); a failing source runs
        alone and after them, so a source that hangs holds up nobody else's pass."""
        size = self.context.settings.service.crawl_group_size
        healthy = [s for s in due if not (states.get(s.id) and states[s.id].failing)]
        failing = [s for s in due if s not in healthy]
        groups = [healthy[i:i + size] for i in range(0, len(healthy), size)]
        return groups + [[s] for s in failing]

    def crawl_time_limit(self) -> float:
        settings = self.context.settings
        return float(settings.crawl.pass_time_limit_seconds
                     + settings.service.crawl_kill_grace_seconds)

    def crawl_due(self, now: datetime | None = None) -> list[CrawlOutcome]:
        """Crawls every due source, group by group, each group in its own subprocess."""
        if not self._crawl_lock.acquire(blocking=False):
            return []                     # a pass is still running: the next tick looks again
        try:
            now = now or self.clock()
            context = self.context
            try:
                states = context.store.list_source_states()
            except StoreError as exc:
                self._fail("crawl", f"store error: {exc}")
                return []
            outcomes = []
            matcher = SourceMatcher(context.sources)
            for group in self.crawl_groups(self.due_sources(now, states), states):
                if self.stop_event.is_set():
                    break
                ids = [s.id for s in group]
                log.info("crawl pass starting: %s", ", ".join(ids),
                         extra={"source": ",".join(ids), "url": group[0].home})
                outcome = run_crawl_process(
                    self.config.crawl_config_dir, self.data_dir, group,
                    time_limit=self.crawl_time_limit(), stop=self.stop_event, matcher=matcher,
                    term_grace=min(15.0, float(context.settings.service.crawl_kill_grace_seconds)),
                    on_start=self._crawl_started)
                self.crawl_pid = None
                self._after_crawl(context, group, outcome)
                outcomes.append(outcome)
            return outcomes
        finally:
            self._crawl_lock.release()

    def _crawl_started(self, pid: int) -> None:
        self.crawl_pid = pid

    def _after_crawl(self, context: Context, group: list[Source], outcome: CrawlOutcome
                     ) -> None:
        rss_mb = round(outcome.max_rss_kb / 1024, 1) if outcome.max_rss_kb else None
        for row in (outcome.summary or {}).get("sources", []):
            source = context.source(row.get("id", ""))
            log.info("crawled %s: fetched %s, new %s, updated %s, errors %s (%s)",
                     row.get("id"), row.get("fetched"), row.get("new"), row.get("updated"),
                     row.get("errors"), row.get("status", "ok"),
                     extra={"source": row.get("id"), "url": source.home if source else None,
                            "new": row.get("new"), "errors": row.get("errors")})
        if outcome.outcome in ("timeout", "failed"):
            kind = "pass timeout" if outcome.outcome == "timeout" else "pass failed"
            for source in group:
                try:
                    state = context.store.get_source_state(source.id)
                    context.store.put_source_state(failed_state(
                        state, source, kind, outcome.error or kind, datetime.now(UTC)))
                except StoreError as exc:
                    self._fail("crawl", f"cannot record the error of {source.id}: {exc}")
                log.error("%s: %s", source.id, outcome.error,
                          extra={"source": source.id, "url": source.home})
        elif outcome.outcome == "busy":
            log.warning("crawl pass skipped: %s", outcome.error,
                        extra={"source": ",".join(outcome.sources)})
        log.info("crawl pass %s in %.1f s, peak memory %s MB: %s", outcome.outcome,
                 outcome.seconds, rss_mb, ", ".join(outcome.sources),
                 extra={"source": ",".join(outcome.sources), "outcome": outcome.outcome,
                        "seconds": outcome.seconds, "max_rss_mb": rss_mb,
                        "exit_code": outcome.exit_code})
        try:
            self.state.record_crawl(CrawlRun(
                outcome.started_at, datetime.now(UTC), outcome.sources, outcome.outcome,
                outcome.exit_code, outcome.seconds, outcome.max_rss_kb, outcome.new_items,
                outcome.error))
        except ServiceStateError as exc:
            self._fail("crawl", str(exc))

    # ------------------------------------------------------------ reports
    def reports_due(self, now: datetime | None = None) -> list[str]:
        """Writes every due weekly report (all formats); returns the weeks written."""
        with self._report_lock:
            now = now or self.clock()
            context = self.context
            settings = context.settings.service
            try:
                weeks = due_weeks(settings, now, self.state.weeks_written())
            except ServiceStateError as exc:
                self._fail("weekly report", str(exc))
                return []
            done = []
            for week in weeks:
                if self.stop_event.is_set():
                    break
                try:
                    files = write_weekly_reports(context.store, context.plan,
                                                 list(context.sources), week,
                                                 settings.report_formats, self.reports_dir)
                    self.state.record_week(week, files)
                except (WriteError, StoreError, QueryError, ServiceStateError, OSError) as exc:
                    self._fail("weekly report", f"{week}: {exc}")
                    break
                log.info("weekly report %s written: %s", week,
                         ", ".join(str(p) for p in files.values()),
                         extra={"week": week, "files": [str(p) for p in files.values()]})
                done.append(week)
            return done

    def next_report_at(self, now: datetime | None = None) -> datetime:
        settings = self.context.settings.service
        return next_due_moment(settings, now or self.clock())

    # ------------------------------------------------------------ one pass
    def tick(self) -> None:
        """The periodic job: due crawls first, then due reports (which then include them)."""
        self.crawl_due()
        self.reports_due()

    def run_due(self, now: datetime | None = None) -> RunResult:
        """Everything that is due now: config check, crawls, then reports (so a report
        written now includes what was just crawled)."""
        self.failures = []
        self.check_config()
        result = RunResult()
        result.crawls = self.crawl_due(now)
        result.weeks = self.reports_due(now)
        result.failures = list(self.failures)
        self.publish_status()
        return result

    def health(self) -> dict[str, Any]:
        """For ``/healthz`` and ``dophu status``: config, last crawl, reports."""
        info: dict[str, Any] = {"started_at": self.started_at.isoformat(),
                                "config": self.config.status()}
        try:
            runs = self.state.crawl_runs(limit=1)
            info["last_crawl"] = runs[0] if runs else None
            info["last_report_week"] = self.state.last_week_written()
        except ServiceStateError as exc:
            info["state_error"] = str(exc)
        if self.config.current is not None:
            info["next_report_at"] = self.next_report_at().isoformat()
        return info


# ---------------------------------------------------------------- APScheduler wiring


def build_scheduler(service: Service) -> Any:
    """A BackgroundScheduler with the service's jobs (not started)."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler

    settings = service.context.settings.service
    scheduler = BackgroundScheduler(
        timezone=ZoneInfo(settings.timezone),
        executors={"default": ThreadPoolExecutor(max_workers=4)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None})
    _add_jobs(scheduler, service, first=True)

    def reschedule(_context: Context) -> None:
        _add_jobs(scheduler, service, first=False)

    service.on_config_change.append(reschedule)
    return scheduler


def _add_jobs(scheduler: Any, service: Service, *, first: bool) -> None:
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    settings = service.context.settings.service
    zone = ZoneInfo(settings.timezone)
    hour, minute = (int(x) for x in settings.weekly_report_time.split(":"))
    start = datetime.now(zone) if first else None
    jobs: list[tuple[str, Callable[..., Any], Any]] = [
        ("tick", service.tick, IntervalTrigger(seconds=settings.tick_seconds)),
        ("reports-check", service.reports_due, IntervalTrigger(seconds=settings.tick_seconds)),
        ("weekly-report", service.reports_due,
         CronTrigger(day_of_week=settings.weekly_report_day, hour=hour, minute=minute,
                     timezone=zone)),
        ("config", service.check_config,
         IntervalTrigger(seconds=settings.config_check_seconds)),
    ]
    for job_id, func, trigger in jobs:
        kwargs: dict[str, Any] = {"id": job_id, "name": job_id, "replace_existing": True}
        if start is not None and job_id == "tick":
            kwargs["next_run_time"] = start        # the first crawl, then the due report
        if first or scheduler.get_job(job_id) is None:
            scheduler.add_job(func, trigger, **kwargs)
        else:
            scheduler.reschedule_job(job_id, trigger=trigger)


__all__ = ["RunResult", "Service", "build_scheduler", "jitter_seconds"]
