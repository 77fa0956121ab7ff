"""What the service has done, kept in ``<data>/service.sqlite3`` so a restart knows it.

* ``reports``: each weekly report written (week, format, file), recorded only after
  every format of the week is on disk, so a killed run writes the week again and a
  second run does not write it twice;
* ``crawl_runs``: each crawl subprocess (sources, outcome, seconds, peak memory);
* ``status``: small JSON values (the config in use and its last error, the heartbeat).

Crawl due times are not here: they are each source's ``SourceState.next_due`` in the
store, which the crawler writes at the end of a pass.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

STATE_FILENAME = "service.sqlite3"

SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    week       TEXT NOT NULL,
    format     TEXT NOT NULL,
    path       TEXT NOT NULL,
    bytes      INTEGER NOT NULL,
    written_at TEXT NOT NULL,
    PRIMARY KEY (week, format)
);
CREATE TABLE IF NOT EXISTS report_weeks (
    week       TEXT PRIMARY KEY,
    written_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS crawl_runs (
    id          INTEGER PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    sources     TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    exit_code   INTEGER,
    seconds     REAL NOT NULL,
    max_rss_kb  INTEGER,
    new_items   INTEGER,
    error       TEXT
);
CREATE TABLE IF NOT EXISTS status (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""


class ServiceStateError(RuntimeError):
    """The service's own state file cannot be read or written (names it and why)."""


@dataclass(frozen=True)
class CrawlRun:
    started_at: datetime
    finished_at: datetime
    sources: list[str]
    outcome: str
    exit_code: int | None
    seconds: float
    max_rss_kb: int | None
    new_items: int | None
    error: str | None


def _now() -> str:
    return datetime.now(UTC).isoformat()


class ServiceState:
    """The small SQLite file beside the store; safe to use from several threads."""

    def __init__(self, data_dir: str | Path):
        self.path = Path(data_dir) / STATE_FILENAME
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30,
                                         isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA busy_timeout=30000")
            self._conn.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ServiceStateError(f"cannot open the service state {self.path}: {exc}"
                                    ) from exc

    def close(self) -> None:
        with suppress(sqlite3.Error):
            self._conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                with suppress(sqlite3.Error):
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                raise ServiceStateError(f"cannot write the service state {self.path}: {exc}"
                                        ) from exc

    def _read(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._conn.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise ServiceStateError(f"cannot read the service state {self.path}: {exc}"
                                        ) from exc

    # ---------------------------------------------------------------- reports
    def record_week(self, week: str, files: dict[str, Path]) -> None:
        """The week's report is complete: every format's file is on disk."""
        now = _now()
        with self._write() as conn:
            for fmt, path in files.items():
                conn.execute("INSERT OR REPLACE INTO reports VALUES (?, ?, ?, ?, ?)",
                             (week, fmt, str(path), path.stat().st_size, now))
            conn.execute("INSERT OR REPLACE INTO report_weeks VALUES (?, ?)", (week, now))

    def weeks_written(self) -> set[str]:
        return {row[0] for row in self._read("SELECT week FROM report_weeks")}

    def last_week_written(self) -> str | None:
        rows = self._read("SELECT max(week) FROM report_weeks")
        return rows[0][0] if rows else None

    def report_files(self, week: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT week, format, path, bytes, written_at FROM reports"
        rows = self._read(sql + (" WHERE week = ?" if week else "") + " ORDER BY week, format",
                          (week,) if week else ())
        return [dict(zip(("week", "format", "path", "bytes", "written_at"), r, strict=True))
                for r in rows]

    # ---------------------------------------------------------------- crawl runs
    def record_crawl(self, run: CrawlRun) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO crawl_runs (started_at, finished_at, sources, outcome, exit_code, "
                "seconds, max_rss_kb, new_items, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run.started_at.isoformat(), run.finished_at.isoformat(),
                 json.dumps(run.sources), run.outcome, run.exit_code, run.seconds,
                 run.max_rss_kb, run.new_items, run.error))

    def crawl_runs(self, limit: int = 20) -> list[dict[str, Any]]:
        rows = self._read("SELECT started_at, finished_at, sources, outcome, exit_code, seconds, "
                          "max_rss_kb, new_items, error FROM crawl_runs ORDER BY id DESC "
                          "LIMIT ?", (limit,))
        keys = ("started_at", "finished_at", "sources", "outcome", "exit_code", "seconds",
                "max_rss_kb", "new_items", "error")
        runs = [dict(zip(keys, r, strict=True)) for r in rows]
        for run in runs:
            run["sources"] = json.loads(run["sources"])
        return runs

    # ---------------------------------------------------------------- status
    def set_status(self, key: str, value: Any) -> None:
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO status VALUES (?, ?, ?)",
                         (key, json.dumps(value, ensure_ascii=False, default=str), _now()))

    def status(self) -> dict[str, Any]:
        return {key: json.loads(value)
                for key, value in self._read("SELECT key, value FROM status")}


__all__ = ["STATE_FILENAME", "CrawlRun", "ServiceState", "ServiceStateError"]
