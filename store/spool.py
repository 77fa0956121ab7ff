"""Keep writes on local disk while the cluster is down, replay them in order when it is back.

``SpoolingStore`` wraps a remote store (Elasticsearch). When an upsert or a source
state write fails with StoreUnavailable, the items are appended to a SQLite file
under the data dir (synchronous=FULL: on disk before the call returns) and the
call succeeds; each later write first replays the spool in append order, in
batches, deleting a batch only after the store took it. Upserts are idempotent by
id, so a replay cut half-way and done again stores nothing twice.

While the cluster is down, the lookups a crawl needs (get, known_ids,
find_by_content_hash, duplicates_of, source states) answer from the spool and the
last states seen; searches, counts and coverage raise StoreUnavailable.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

from dophu.models import Feedback, Item, SourceState
from store.base import (
    CoverageQuery,
    CoverageRow,
    Filters,
    SearchQuery,
    SearchResult,
    Store,
    StoreError,
    StoreUnavailable,
    UpsertResult,
)

log = logging.getLogger(__name__)

SPOOL_FILENAME = "elasticsearch-spool.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id    TEXT NOT NULL,
    source     TEXT NOT NULL,
    hash       TEXT,
    dup_of     TEXT,
    payload    TEXT NOT NULL,
    spooled_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS items_id ON items(item_id);
CREATE INDEX IF NOT EXISTS items_hash ON items(hash);
CREATE INDEX IF NOT EXISTS items_dup ON items(dup_of);
CREATE TABLE IF NOT EXISTS states (
    source_id  TEXT PRIMARY KEY,
    payload    TEXT NOT NULL,
    pending    INTEGER NOT NULL          -- 1: still to be written to the store
);
CREATE TABLE IF NOT EXISTS rejected (
    seq        INTEGER PRIMARY KEY,
    item_id    TEXT NOT NULL,
    payload    TEXT NOT NULL,
    error      TEXT NOT NULL,
    at         TEXT NOT NULL
);
"""


class Spool:
    """An append-only, durable queue of items (and the latest crawl states) in SQLite."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30,
                                         isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the spool {self.path}: {exc}") from exc
        self._lock = threading.RLock()

    def _run(self, sql: str, args: Iterable[object] = ()) -> list[tuple]:
        with self._lock:
            return self._conn.execute(sql, tuple(args)).fetchall()

    def close(self) -> None:
        with suppress(sqlite3.Error):
            self._conn.close()

    # ------------------------------------------------------------ items
    def append(self, items: list[Item]) -> None:
        now = datetime.now(UTC).isoformat()
        rows = [(i.id, i.source, i.content_hash, i.duplicate_of, i.model_dump_json(), now)
                for i in items]
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    "INSERT INTO items (item_id, source, hash, dup_of, payload, spooled_at) "
                    "VALUES (?,?,?,?,?,?)", rows)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def pending(self) -> int:
        return self._run("SELECT COUNT(*) FROM items")[0][0]

    def peek(self, limit: int) -> list[tuple[int, Item]]:
        """The oldest ``limit`` spooled items, in the order they were spooled."""
        return [(seq, Item.model_validate_json(payload)) for seq, payload in self._run(
            "SELECT seq, payload FROM items ORDER BY seq LIMIT ?", (limit,))]

    def remove_through(self, seq: int) -> None:
        self._run("DELETE FROM items WHERE seq <= ?", (seq,))

    def reject(self, refused: list[tuple[int, Item]], error: str, *, through: int) -> None:
        """Set items the store refused aside (kept, not retried forever); the others of
        the batch up to ``through`` were stored and leave the spool."""
        now = datetime.now(UTC).isoformat()
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.executemany(
                "INSERT OR REPLACE INTO rejected VALUES (?,?,?,?,?)",
                [(seq, item.id, item.model_dump_json(), error, now) for seq, item in refused])
            self._conn.execute("DELETE FROM items WHERE seq <= ?", (through,))
            self._conn.execute("COMMIT")

    def rejected(self) -> int:
        return self._run("SELECT COUNT(*) FROM rejected")[0][0]

    def latest(self, item_id: str) -> Item | None:
        rows = self._run("SELECT payload FROM items WHERE item_id=? ORDER BY seq DESC LIMIT 1",
                         (item_id,))
        return Item.model_validate_json(rows[0][0]) if rows else None

    def ids_where(self, column: str, value: str) -> list[str]:
        assert column in ("hash", "dup_of")
        return list(dict.fromkeys(r[0] for r in self._run(
            f"SELECT item_id FROM items WHERE {column}=? ORDER BY seq", (value,))))

    def known(self, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            found.update(r[0] for r in self._run(
                f"SELECT DISTINCT item_id FROM items WHERE item_id IN "
                f"({','.join('?' * len(chunk))})", chunk))
        return found

    def drop_source(self, source_id: str) -> int:
        with self._lock:
            return self._conn.execute("DELETE FROM items WHERE source=?",
                                      (source_id,)).rowcount

    # ------------------------------------------------------------ source states
    def put_state(self, state: SourceState, *, pending: bool) -> None:
        self._run("INSERT OR REPLACE INTO states VALUES (?,?,?)",
                  (state.source_id, state.model_dump_json(), int(pending)))

    def states(self, *, pending_only: bool = False) -> dict[str, SourceState]:
        sql = "SELECT source_id, payload FROM states" + (" WHERE pending=1" if pending_only
                                                         else "")
        return {r[0]: SourceState.model_validate_json(r[1])
                for r in self._run(sql + " ORDER BY source_id")}

    def state_written(self, source_id: str, payload: str) -> None:
        self._run("UPDATE states SET pending=0 WHERE source_id=? AND payload=?",
                  (source_id, payload))


class SpoolingStore(Store):
    """A remote store whose writes survive the remote being down (see module doc)."""

    def __init__(self, inner: Store, spool_path: str | Path, *, retry_interval: float = 30.0,
                 batch_size: int = 500):
        self.inner = inner
        self.spool = Spool(spool_path)
        self.retry_interval = retry_interval
        self.batch_size = batch_size
        self.spooled = 0      # items spooled by this process
        self.replayed = 0     # items replayed by this process
        self._down_until = 0.0
        self._lock = threading.RLock()

    # ------------------------------------------------------------ availability
    def _mark_down(self, exc: StoreUnavailable) -> None:
        if time.monotonic() >= self._down_until:
            log.warning("%s; keeping writes in %s until it is back", exc, self.spool.path)
        self._down_until = time.monotonic() + self.retry_interval

    @property
    def _resting(self) -> bool:
        """True shortly after a failure: don't wait on a dead cluster for every batch."""
        return time.monotonic() < self._down_until

    def replay(self) -> bool:
        """Write the spool to the store, oldest first; True when nothing is left to write."""
        with self._lock:
            if self._resting:
                return self.spool.pending() == 0 and not self.spool.states(pending_only=True)
            try:
                while batch := self.spool.peek(self.batch_size):
                    try:
                        self.inner.upsert([item for _, item in batch])
                    except StoreUnavailable:
                        raise
                    except StoreError as exc:
                        failed = getattr(exc, "failed_ids", None)
                        refused = [(seq, item) for seq, item in batch
                                   if failed is None or item.id in failed]
                        log.error("the store refused %d spooled items (kept in %s, table "
                                  "'rejected'): %s", len(refused), self.spool.path, exc)
                        self.spool.reject(refused, str(exc), through=batch[-1][0])
                        self.replayed += len(batch) - len(refused)
                        continue
                    self.spool.remove_through(batch[-1][0])
                    self.replayed += len(batch)
                for state in self.spool.states(pending_only=True).values():
                    self.inner.put_source_state(state)
                    self.spool.state_written(state.source_id, state.model_dump_json())
            except StoreUnavailable as exc:
                self._mark_down(exc)
                return False
            return True

    # ------------------------------------------------------------ writes
    def upsert(self, items: Iterable[Item]) -> UpsertResult:
        items = list(items)
        with self._lock:
            if self.replay() and items:
                try:
                    return self.inner.upsert(items)
                except StoreUnavailable as exc:
                    self._mark_down(exc)
            if items:
                self.spool.append(items)
                self.spooled += len(items)
            return UpsertResult()

    def put_source_state(self, state: SourceState) -> None:
        with self._lock:
            if self.replay():
                try:
                    self.inner.put_source_state(state)
                    self.spool.put_state(state, pending=False)
                    return
                except StoreUnavailable as exc:
                    self._mark_down(exc)
            self.spool.put_state(state, pending=True)

    def delete_source(self, source_id: str) -> int:
        deleted = self.inner.delete_source(source_id)
        return deleted + self.spool.drop_source(source_id)

    # ------------------------------------------------------------ lookups a crawl needs
    def _inner_or(self, call, fallback):  # type: ignore[no-untyped-def]
        if not self._resting:
            try:
                return call()
            except StoreUnavailable as exc:
                self._mark_down(exc)
        return fallback()

    def get(self, item_id: str) -> Item | None:
        spooled = self.spool.latest(item_id)
        if spooled is not None:
            return spooled          # newer than anything the store has
        return self._inner_or(lambda: self.inner.get(item_id), lambda: None)

    def known_ids(self, ids: Iterable[str]) -> set[str]:
        ids = list(ids)
        return self.spool.known(ids) | self._inner_or(lambda: self.inner.known_ids(ids), set)

    def find_by_content_hash(self, content_hash: str) -> list[str]:
        stored = self._inner_or(lambda: self.inner.find_by_content_hash(content_hash), list)
        return list(dict.fromkeys(stored + self.spool.ids_where("hash", content_hash)))

    def duplicates_of(self, item_id: str) -> list[str]:
        stored = self._inner_or(lambda: self.inner.duplicates_of(item_id), list)
        return list(dict.fromkeys(stored + self.spool.ids_where("dup_of", item_id)))

    def get_source_state(self, source_id: str) -> SourceState | None:
        pending = self.spool.states(pending_only=True).get(source_id)
        if pending is not None:
            return pending
        return self._inner_or(lambda: self.inner.get_source_state(source_id),
                              lambda: self.spool.states().get(source_id))

    def list_source_states(self) -> dict[str, SourceState]:
        def from_store() -> dict[str, SourceState]:
            states = self.inner.list_source_states()
            for state in states.values():      # remembered for a crawl while it is down
                self.spool.put_state(state, pending=False)
            return states

        return {**self._inner_or(from_store, self.spool.states),
                **self.spool.states(pending_only=True)}

    # ------------------------------------------------------------ the rest: the store's
    def search(self, query: SearchQuery) -> SearchResult:
        return self.inner.search(query)

    def count(self, filters: Filters | None = None) -> int:
        return self.inner.count(filters)

    def coverage(self, query: CoverageQuery) -> list[CoverageRow]:
        return self.inner.coverage(query)

    def iter_items(self, *, after_id: str | None = None, batch_size: int = 1000
                   ) -> Iterator[Item]:
        return self.inner.iter_items(after_id=after_id, batch_size=batch_size)

    def add_feedback(self, feedback: Feedback) -> Feedback:
        return self.inner.add_feedback(feedback)

    def list_feedback(self, *, item_id: str | None = None, since: datetime | None = None,
                      until: datetime | None = None) -> list[Feedback]:
        return self.inner.list_feedback(item_id=item_id, since=since, until=until)

    def close(self) -> None:
        """One last replay, unless the store failed moments ago (then the next run does it)."""
        try:
            if not self.replay():
                log.warning("%d items remain in %s; they are written on the next run",
                            self.spool.pending(), self.spool.path)
        finally:
            self.spool.close()
            self.inner.close()


def spool_status(path: str | Path) -> dict[str, object]:
    """What a spool file holds (for ``dophu index spool``)."""
    spool = Spool(path)
    try:
        return {"path": str(path), "pending_items": spool.pending(),
                "pending_states": len(spool.states(pending_only=True)),
                "rejected_items": spool.rejected()}
    finally:
        spool.close()
