"""The crawler's own memory, next to the store: which URLs were fetched and what came of them.

One SQLite file (``<data>/crawl.sqlite3``) with three tables:

* ``pages``: a URL (canonical) → the item it became, or why it did not (not an
  article, robots-disallowed, an error and how many times), and the ``lastmod``
  the source gave for it, so a known page is fetched again only when its feed or
  sitemap says it changed, and a failing one only a few times;
* ``robots``: robots.txt bodies with their validators, so that a second pass
  over an unchanged site asks for robots.txt conditionally too;
* ``signatures``: MinHash signatures of stored items (``crawlers.neardup``).

Item rows are written after their batch is in the store, so a killed crawl
never remembers a page whose item it lost.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

LEDGER_FILENAME = "crawl.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (
    url         TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    item_id     TEXT,
    status      TEXT NOT NULL,        -- item | skipped | error
    reason      TEXT,
    lastmod     TEXT,                 -- what the feed/sitemap said when we fetched
    fetched_at  TEXT NOT NULL,
    error_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS pages_source_status ON pages(source, status);
CREATE TABLE IF NOT EXISTS robots (
    url           TEXT PRIMARY KEY,
    etag          TEXT,
    last_modified TEXT,
    body          BLOB NOT NULL,
    fetched_at    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS signatures (
    item_id    TEXT PRIMARY KEY,
    source     TEXT NOT NULL,
    signature  BLOB NOT NULL,
    published  REAL,                  -- epoch seconds: the earlier story is the original
    stored_at  REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS signatures_time ON signatures(stored_at);
"""


@dataclass(frozen=True)
class PageRecord:
    url: str
    source: str
    item_id: str | None
    status: str
    reason: str | None
    lastmod: datetime | None
    fetched_at: datetime
    error_count: int


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class Ledger:
    """Pages fetched, robots.txt cache and near-duplicate signatures for one data dir."""

    def __init__(self, data_dir: str | Path):
        path = Path(data_dir)
        path.mkdir(parents=True, exist_ok=True)
        self.path = path / LEDGER_FILENAME
        self.conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(_SCHEMA)

    def close(self) -> None:
        self.conn.close()

    # ------------------------------------------------------------ pages
    def page(self, url: str) -> PageRecord | None:
        row = self.conn.execute("SELECT url, source, item_id, status, reason, lastmod, "
                                "fetched_at, error_count FROM pages WHERE url=?",
                                (url,)).fetchone()
        if row is None:
            return None
        return PageRecord(row[0], row[1], row[2], row[3], row[4], _parse(row[5]),
                          _parse(row[6]) or datetime.now(UTC), row[7])

    def should_fetch(self, url: str, lastmod: datetime | None, max_errors: int) -> bool:
        """Unknown pages, pages the source says changed since, and failing pages that have
        not failed ``max_errors`` times yet."""
        record = self.page(url)
        if record is None:
            return True
        if record.status == "error":
            return record.error_count < max_errors
        if lastmod is None:
            return False
        reference = record.lastmod or record.fetched_at
        return lastmod > reference

    def mark_items(self, rows: Iterable[tuple[str, str, str, datetime | None]]) -> None:
        """(url, source, item id, lastmod) for pages whose items are now in the store."""
        now = _iso(datetime.now(UTC))
        with self.conn:
            self.conn.executemany(
                "INSERT INTO pages (url, source, item_id, status, reason, lastmod, fetched_at,"
                " error_count) VALUES (?,?,?,'item',NULL,?,?,0) ON CONFLICT(url) DO UPDATE SET "
                "item_id=excluded.item_id, status='item', reason=NULL, "
                "lastmod=excluded.lastmod, fetched_at=excluded.fetched_at, error_count=0",
                [(url, source, item_id, _iso(lastmod), now) for url, source, item_id, lastmod
                 in rows])

    def mark_skipped(self, url: str, source: str, reason: str,
                     lastmod: datetime | None = None) -> None:
        with self.conn:
            self.conn.execute(
                "INSERT INTO pages (url, source, item_id, status, reason, lastmod, fetched_at,"
                " error_count) VALUES (?,?,NULL,'skipped',?,?,?,0) ON CONFLICT(url) DO UPDATE "
                "SET status='skipped', reason=excluded.reason, lastmod=excluded.lastmod, "
                "fetched_at=excluded.fetched_at, error_count=0",
                (url, source, reason[:300], _iso(lastmod), _iso(datetime.now(UTC))))

    def mark_error(self, url: str, source: str, reason: str) -> int:
        """Count one more failure of ``url``; returns how many so far. An item already
        stored for it stays an item."""
        with self.conn:
            self.conn.execute(
                "INSERT INTO pages (url, source, item_id, status, reason, lastmod, fetched_at,"
                " error_count) VALUES (?,?,NULL,'error',?,NULL,?,1) ON CONFLICT(url) DO UPDATE "
                "SET reason=excluded.reason, error_count=pages.error_count+1, "
                "status=CASE WHEN pages.status='item' THEN 'item' ELSE 'error' END",
                (url, source, reason[:300], _iso(datetime.now(UTC))))
        row = self.conn.execute("SELECT error_count FROM pages WHERE url=?", (url,)).fetchone()
        return int(row[0]) if row else 1

    def failing_pages(self, source: str, max_errors: int) -> list[str]:
        """Pages of ``source`` that failed before and may be tried again."""
        return [r[0] for r in self.conn.execute(
            "SELECT url FROM pages WHERE source=? AND status='error' AND error_count<? "
            "ORDER BY fetched_at", (source, max_errors))]

    def error_counts(self, source: str) -> dict[str, int]:
        return dict(self.conn.execute(
            "SELECT url, error_count FROM pages WHERE source=? AND error_count>0", (source,)))

    def counts(self, source: str) -> dict[str, int]:
        return dict(self.conn.execute(
            "SELECT status, COUNT(*) FROM pages WHERE source=? GROUP BY status", (source,)))

    # ------------------------------------------------------------ robots.txt
    def robots(self, url: str) -> tuple[str | None, str | None, bytes] | None:
        row = self.conn.execute("SELECT etag, last_modified, body FROM robots WHERE url=?",
                                (url,)).fetchone()
        return (row[0], row[1], bytes(row[2])) if row else None

    def put_robots(self, url: str, etag: str | None, last_modified: str | None,
                   body: bytes) -> None:
        with self.conn:
            self.conn.execute("INSERT OR REPLACE INTO robots VALUES (?,?,?,?,?)",
                              (url, etag, last_modified, body, _iso(datetime.now(UTC))))

    # ------------------------------------------------------------ signatures
    def put_signatures(self, rows: Iterable[tuple[str, str, bytes, float | None]]) -> None:
        """(item id, source, signature, published epoch) of originals now in the store."""
        now = datetime.now(UTC).timestamp()
        with self.conn:
            self.conn.executemany("INSERT OR REPLACE INTO signatures VALUES (?,?,?,?,?)",
                                  [(item_id, source, sig, published, now)
                                   for item_id, source, sig, published in rows])

    def replace_signatures(self, rows: Iterable[tuple[str, bytes]]) -> None:
        """(item id, signature): a stored signature made again (another scheme made it),
        keeping when it was stored, so the near-duplicate window does not move."""
        with self.conn:
            self.conn.executemany("UPDATE signatures SET signature=? WHERE item_id=?",
                                  [(sig, item_id) for item_id, sig in rows])

    def drop_signatures(self, item_ids: Iterable[str]) -> None:
        with self.conn:
            self.conn.executemany("DELETE FROM signatures WHERE item_id=?",
                                  [(i,) for i in item_ids])

    def signatures(self, since: datetime | None = None
                   ) -> Iterator[tuple[str, str, bytes, float | None]]:
        threshold = since.timestamp() if since else 0.0
        yield from ((r[0], r[1], bytes(r[2]), r[3]) for r in self.conn.execute(
            "SELECT item_id, source, signature, published FROM signatures WHERE stored_at>=? "
            "ORDER BY stored_at", (threshold,)))
