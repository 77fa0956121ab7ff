"""The embedded store: one SQLite file (WAL), FTS5 over a folded copy of the text.

Plain SQL you can read with the ``sqlite3`` shell: ``items`` holds one row per
item, ``tags`` one row per (item, label) with its score and evidence,
``items_fts`` a folded title/text for accent-insensitive search (SQLite's own
``remove_diacritics`` does not fold ``đ``), ``feedback`` and ``source_state``
what people and the crawler add.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dophu.dates import LOCAL_TZ, iso_week_key, local_day_bounds, month_key
from dophu.models import Feedback, Item, SourceState, Tag
from dophu.text import fold
from store.base import (
    CoverageQuery,
    CoverageRow,
    Filters,
    QueryError,
    SearchHit,
    SearchQuery,
    SearchResult,
    Store,
    StoreError,
    UpsertResult,
)
from store.query import ParsedQuery, Phrase, highlight, parse_query

SCHEMA_VERSION = 1
MMAP_BYTES = 2 * 1024**3  # address space, not memory: the OS pages the file in as read
CACHE_ENTRIES = 256       # search results and listing counts kept until the data changes

MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE items (
        rowid        INTEGER PRIMARY KEY,
        id           TEXT NOT NULL UNIQUE,
        url          TEXT,
        source       TEXT NOT NULL,
        unit         TEXT NOT NULL,
        kind         TEXT NOT NULL,
        title        TEXT NOT NULL,
        text         TEXT NOT NULL,
        published_at TEXT,
        fetched_at   TEXT,
        ts           REAL,           -- epoch seconds of published_at, else fetched_at
        day          TEXT,           -- local (Asia/Ho_Chi_Minh) calendar keys of ts
        week         TEXT,
        month        TEXT,
        relevant     INTEGER,        -- NULL: not tagged yet
        duplicate_of TEXT,
        content_hash TEXT,
        meta         TEXT NOT NULL DEFAULT '{}',
        row_hash     TEXT NOT NULL,
        updated_at   TEXT NOT NULL
    );
    CREATE INDEX items_ts ON items(ts);
    CREATE INDEX items_day ON items(day);
    CREATE INDEX items_source_ts ON items(source, ts);
    CREATE INDEX items_unit_ts ON items(unit, ts);
    CREATE INDEX items_kind_ts ON items(kind, ts);
    CREATE INDEX items_hash ON items(content_hash);
    CREATE INDEX items_dup ON items(duplicate_of);
    CREATE TABLE tags (
        item_rowid INTEGER NOT NULL REFERENCES items(rowid) ON DELETE CASCADE,
        kind       TEXT NOT NULL CHECK (kind IN ('theme', 'anniversary')),
        tag        TEXT NOT NULL,
        score      REAL NOT NULL,
        evidence   TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (item_rowid, kind, tag)
    ) WITHOUT ROWID;
    CREATE INDEX tags_by_tag ON tags(kind, tag, score, item_rowid);
    CREATE VIRTUAL TABLE items_fts USING fts5(
        title, text, tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TABLE feedback (
        id         INTEGER PRIMARY KEY,
        item_id    TEXT NOT NULL,
        label_kind TEXT NOT NULL,
        label      TEXT NOT NULL,
        action     TEXT NOT NULL,
        user       TEXT NOT NULL,
        at         TEXT NOT NULL,
        at_ts      REAL NOT NULL,
        note       TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX feedback_item ON feedback(item_id);
    CREATE INDEX feedback_at ON feedback(at_ts);
    CREATE TABLE source_state (
        source_id  TEXT PRIMARY KEY,
        state      TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    """,
}

_ITEM_COLUMNS = ("rowid, id, url, source, unit, kind, title, text, published_at, fetched_at, "
                 "relevant, duplicate_of, content_hash, meta")
_QUALIFIED_COLUMNS = ", ".join("items." + c.strip() for c in _ITEM_COLUMNS.split(","))
_DIM_COLUMN = {"unit": "unit", "source": "source", "kind": "kind"}


def _fts_phrase(phrase: Phrase) -> str:
    # Tokens are runs of letters/digits only, so quoting them is always safe.
    return '"' + " ".join(phrase.tokens) + '"' + ("*" if phrase.prefix else "")


def fts_expression(parsed: ParsedQuery) -> str:
    """The FTS5 MATCH string for a parsed query (never the user's raw text)."""
    parts = []
    for clause in parsed.clauses:
        alts = [_fts_phrase(p) for p in clause]
        parts.append(alts[0] if len(alts) == 1 else "(" + " OR ".join(alts) + ")")
    expression = " AND ".join(parts)
    for phrase in parsed.excluded:
        expression += f" NOT {_fts_phrase(phrase)}"
    return expression


def _utc_now() -> str:
    return datetime.now(UTC).isoformat()


def _row_hash(item: Item) -> str:
    payload = item.model_dump(mode="json", exclude={"fetched_at"})
    return hashlib.sha1(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
                        ).hexdigest()


class SQLiteStore(Store):
    """The default store: no server, one file under the data dir."""

    def __init__(self, path: str | Path, *, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        self._local = threading.local()
        self._write_lock = threading.RLock()
        # results shared by every thread's connection, valid while the data is unchanged
        self._cache_lock = threading.Lock()
        self._generation = 0
        self._cache: OrderedDict[tuple[Any, ...], tuple[int, Any]] = OrderedDict()
        self._all_connections: list[sqlite3.Connection] = []
        if not readonly:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create data dir {self.path.parent}: {exc}") from exc
        self._migrate()

    # ------------------------------------------------------------ connections
    def _connect(self) -> sqlite3.Connection:
        try:
            if self.readonly:
                conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True,
                                       check_same_thread=False, timeout=30,
                                       isolation_level=None)
            else:
                # autocommit: the only transactions are the explicit ones of _write(), so a
                # search's temp-table work never leaves a stale snapshot open on a thread
                conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30,
                                       isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open store {self.path}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA cache_size=-65536")
        # pages read through a memory map, not a read() each: joining 140k full-text hits to
        # their items at a million items took 1.2-1.5 s with read(), 0.4-0.9 s mapped
        conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
        self._all_connections.append(conn)
        return conn

    @property
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        if self.readonly:
            raise StoreError(f"store {self.path} is open read-only")
        conn = self._conn
        with self._write_lock:
            try:
                conn.execute("BEGIN IMMEDIATE")
                yield conn
                conn.execute("COMMIT")
                self._bump_generation()
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError):
                    raise StoreError(f"store {self.path}: {exc}") from exc
                raise

    def _migrate(self) -> None:
        conn = self._conn
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"store {self.path} has schema {version}, newer than this "
                             f"dophu understands ({SCHEMA_VERSION})")
        if version == SCHEMA_VERSION or self.readonly:
            return
        with self._write_lock:
            for target in range(version + 1, SCHEMA_VERSION + 1):
                try:
                    conn.executescript("BEGIN IMMEDIATE;" + MIGRATIONS[target]
                                       + f"; PRAGMA user_version={target}; COMMIT;")
                except sqlite3.Error as exc:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise StoreError(f"cannot migrate store {self.path} to schema {target}: "
                                     f"{exc}") from exc

    @property
    def schema_version(self) -> int:
        return self._conn.execute("PRAGMA user_version").fetchone()[0]

    def close(self) -> None:
        for conn in self._all_connections:
            with suppress(sqlite3.Error):
                conn.close()
        self._all_connections.clear()
        self._local = threading.local()

    def integrity_check(self) -> str:
        return self._conn.execute("PRAGMA integrity_check").fetchone()[0]

    # ------------------------------------------------------------ writes
    def upsert(self, items: Iterable[Item]) -> UpsertResult:
        result = UpsertResult()
        batch: list[Item] = []
        for item in items:
            batch.append(item)
            if len(batch) >= 500:
                self._upsert_batch(batch, result)
                batch = []
        if batch:
            self._upsert_batch(batch, result)
        return result

    def _upsert_batch(self, batch: list[Item], result: UpsertResult) -> None:
        unique: dict[str, Item] = {}
        for item in batch:
            unique[item.id] = item          # the last version of an id in a batch wins
        with self._write() as conn:
            ids = list(unique)
            existing: dict[str, tuple[int, str]] = {}
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                marks = ",".join("?" * len(chunk))
                for row in conn.execute(
                        f"SELECT rowid, id, row_hash FROM items WHERE id IN ({marks})", chunk):
                    existing[row["id"]] = (row["rowid"], row["row_hash"])
            now = _utc_now()
            for item in unique.values():
                digest = _row_hash(item)
                values = self._item_values(item, digest, now)
                if item.id in existing:
                    rowid, old_hash = existing[item.id]
                    if old_hash == digest:
                        result.unchanged += 1
                        continue
                    conn.execute(
                        "UPDATE items SET url=?, source=?, unit=?, kind=?, title=?, text=?, "
                        "published_at=?, fetched_at=?, ts=?, day=?, week=?, month=?, relevant=?, "
                        "duplicate_of=?, content_hash=?, meta=?, row_hash=?, updated_at=? "
                        "WHERE rowid=?", (*values[1:], rowid))
                    conn.execute("DELETE FROM items_fts WHERE rowid=?", (rowid,))
                    conn.execute("DELETE FROM tags WHERE item_rowid=?", (rowid,))
                    result.updated += 1
                else:
                    rowid = conn.execute(
                        "INSERT INTO items (id, url, source, unit, kind, title, text, "
                        "published_at, fetched_at, ts, day, week, month, relevant, duplicate_of, "
                        "content_hash, meta, row_hash, updated_at) "
                        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", values).lastrowid
                    result.new += 1
                conn.execute("INSERT INTO items_fts (rowid, title, text) VALUES (?,?,?)",
                             (rowid, fold(item.title), fold(item.text)))
                tag_rows = [(rowid, "theme", t.id, t.score, json.dumps(t.evidence,
                                                                      ensure_ascii=False))
                            for t in item.themes]
                tag_rows += [(rowid, "anniversary", t.id, t.score,
                              json.dumps(t.evidence, ensure_ascii=False))
                             for t in item.anniversaries]
                if tag_rows:
                    conn.executemany("INSERT OR REPLACE INTO tags VALUES (?,?,?,?,?)", tag_rows)

    @staticmethod
    def _item_values(item: Item, digest: str, now: str) -> tuple[Any, ...]:
        moment = item.published_at or item.fetched_at
        ts = day = week = month = None
        if moment is not None:
            ts = moment.timestamp()
            local_day = moment.astimezone(LOCAL_TZ).date()
            day, week, month = local_day.isoformat(), iso_week_key(local_day), month_key(local_day)
        return (
            item.id, item.url, item.source, item.unit, item.kind, item.title, item.text,
            item.published_at.isoformat() if item.published_at else None,
            item.fetched_at.isoformat() if item.fetched_at else None,
            ts, day, week, month,
            None if item.relevant is None else int(item.relevant),
            item.duplicate_of, item.content_hash,
            json.dumps(item.meta, ensure_ascii=False, sort_keys=True, default=str),
            digest, now,
        )

    def delete_source(self, source_id: str) -> int:
        with self._write() as conn:
            rows = [r[0] for r in conn.execute("SELECT rowid FROM items WHERE source=?",
                                               (source_id,))]
            for start in range(0, len(rows), 500):
                chunk = rows[start:start + 500]
                marks = ",".join("?" * len(chunk))
                conn.execute(f"DELETE FROM items_fts WHERE rowid IN ({marks})", chunk)
                conn.execute(f"DELETE FROM tags WHERE item_rowid IN ({marks})", chunk)
                conn.execute(f"DELETE FROM items WHERE rowid IN ({marks})", chunk)
            return len(rows)

    # ------------------------------------------------------------ reads
    def _items_from_rows(self, rows: list[sqlite3.Row]) -> list[Item]:
        if not rows:
            return []
        rowids = [r["rowid"] for r in rows]
        tags: dict[int, dict[str, list[Tag]]] = {}
        for start in range(0, len(rowids), 500):
            chunk = rowids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for t in self._conn.execute(
                    f"SELECT item_rowid, kind, tag, score, evidence FROM tags "
                    f"WHERE item_rowid IN ({marks}) ORDER BY score DESC, tag", chunk):
                tags.setdefault(t["item_rowid"], {"theme": [], "anniversary": []})[
                    t["kind"]].append(Tag(id=t["tag"], score=t["score"],
                                          evidence=json.loads(t["evidence"])))
        items = []
        for r in rows:
            own = tags.get(r["rowid"], {"theme": [], "anniversary": []})
            items.append(Item.model_construct(
                id=r["id"], url=r["url"], source=r["source"], unit=r["unit"], kind=r["kind"],
                title=r["title"], text=r["text"],
                published_at=datetime.fromisoformat(r["published_at"]) if r["published_at"]
                else None,
                fetched_at=datetime.fromisoformat(r["fetched_at"]) if r["fetched_at"] else None,
                relevant=None if r["relevant"] is None else bool(r["relevant"]),
                themes=own["theme"], anniversaries=own["anniversary"],
                duplicate_of=r["duplicate_of"], content_hash=r["content_hash"],
                meta=json.loads(r["meta"]),
            ))
        return items

    def get(self, item_id: str) -> Item | None:
        rows = self._conn.execute(f"SELECT {_ITEM_COLUMNS} FROM items WHERE id=?",
                                  (item_id,)).fetchall()
        items = self._items_from_rows(rows)
        return items[0] if items else None

    def known_ids(self, ids: Iterable[str]) -> set[str]:
        ids = list(ids)
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(r[0] for r in self._conn.execute(
                f"SELECT id FROM items WHERE id IN ({marks})", chunk))
        return found

    def find_by_content_hash(self, content_hash: str) -> list[str]:
        return [r[0] for r in self._conn.execute(
            "SELECT id FROM items WHERE content_hash=? ORDER BY ts, rowid", (content_hash,))]

    def duplicates_of(self, item_id: str) -> list[str]:
        return [r[0] for r in self._conn.execute(
            "SELECT id FROM items WHERE duplicate_of=? ORDER BY ts, rowid", (item_id,))]

    def iter_items(self, *, after_id: str | None = None, batch_size: int = 1000
                   ) -> Iterator[Item]:
        cursor = after_id or ""
        while True:
            rows = self._conn.execute(
                f"SELECT {_ITEM_COLUMNS} FROM items WHERE id > ? ORDER BY id LIMIT ?",
                (cursor, batch_size)).fetchall()
            if not rows:
                return
            yield from self._items_from_rows(rows)
            cursor = rows[-1]["id"]

    # ------------------------------------------------------------ filters
    @staticmethod
    def _where(filters: Filters) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        args: list[Any] = []
        for column, values in (("source", filters.sources), ("unit", filters.units),
                               ("kind", filters.kinds)):
            if values:
                where.append(f"items.{column} IN ({','.join('?' * len(values))})")
                args.extend(values)
        for kind, values in (("theme", filters.themes), ("anniversary", filters.anniversaries)):
            if values:
                # "+t.score": keep the probe on the primary key (item, kind, tag); with
                # several tags SQLite otherwise scans tags_by_tag's score range once per item
                # (27 s instead of 3 ms for ten themes over one week of a 150k store).
                where.append(
                    "EXISTS (SELECT 1 FROM tags t WHERE t.item_rowid = items.rowid "
                    f"AND t.kind = ? AND t.tag IN ({','.join('?' * len(values))}) "
                    "AND +t.score >= ?)")
                args.extend([kind, *values, filters.min_score])
        # local calendar days as instants, so that the (source|unit|kind, ts) indexes serve
        # both the filter and the date order
        if filters.date_from:
            where.append("items.ts >= ?")
            args.append(local_day_bounds(filters.date_from, filters.date_from)[0].timestamp())
        if filters.date_to:
            where.append("items.ts < ?")
            args.append(local_day_bounds(filters.date_to, filters.date_to)[1].timestamp())
        if filters.relevant is not None:
            where.append("items.relevant = ?")
            args.append(int(filters.relevant))
        if not filters.include_duplicates:
            # "+": most rows have no duplicate_of, so items_dup must not drive the query
            # (it did, instead of the ts range: 0.18 s instead of 4 ms per search at 150k)
            where.append("+items.duplicate_of IS NULL")
        if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
            raise QueryError("'from' is after 'to'")
        return where, args

    def count(self, filters: Filters | None = None) -> int:
        where, args = self._where(filters or Filters())
        sql = "SELECT COUNT(*) FROM items" + (" WHERE " + " AND ".join(where) if where else "")
        return self._conn.execute(sql, args).fetchone()[0]

    # ------------------------------------------------------------ search
    def search(self, query: SearchQuery) -> SearchResult:
        """Answers from the shared cache while nothing was written since the same query was
        answered (a page of a broad query costs 0.1-1 s on a million items); a copy, so a
        caller can change what it gets."""
        result = self._cached(("search", query.model_dump_json()), lambda: self._search(query))
        return result.model_copy(deep=True)

    def _search(self, query: SearchQuery) -> SearchResult:
        parsed = parse_query(query.text)
        if parsed.empty:
            return self._listing(query)
        where, args = self._where(query)
        conn = self._conn
        where_sql = (" WHERE " + " AND ".join(where)) if where else ""
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS _hits (rowid INTEGER PRIMARY KEY, "
                     "rank REAL, ts REAL, source TEXT, unit TEXT, kind TEXT)")
        conn.execute("DELETE FROM _hits")
        # Full-text matches first (materialised), then the filters on those rows only:
        # letting the planner probe the FTS index once per filtered row is very slow.
        try:
            conn.execute(
                "WITH m AS MATERIALIZED (SELECT rowid, bm25(items_fts, 3.0, 1.0) AS rank "
                "FROM items_fts WHERE items_fts MATCH ?) "
                "INSERT INTO _hits SELECT items.rowid, m.rank, items.ts, items.source, "
                "items.unit, items.kind "
                f"FROM m CROSS JOIN items ON items.rowid = m.rowid{where_sql}",
                [fts_expression(parsed), *args])
        except sqlite3.OperationalError as exc:
            raise QueryError(f"cannot search for {query.text!r}: {exc}") from exc
        total = conn.execute("SELECT COUNT(*) FROM _hits").fetchone()[0]
        order = {"relevance": "h.rank, h.ts DESC, h.rowid DESC",
                 "date": "h.ts DESC, h.rowid DESC",
                 "date_asc": "h.ts ASC, h.rowid ASC"}[query.sort]
        # the page is chosen among the hits first, then only its rows are read from items
        # (joining every hit before the LIMIT read 22k item rows for one page: 80 ms → 2 ms)
        rows = conn.execute(
            f"SELECT {_QUALIFIED_COLUMNS}, h.rank AS _rank FROM "
            f"(SELECT h.rowid AS rowid, h.rank AS rank, h.ts AS ts FROM _hits h "
            f"ORDER BY {order} LIMIT ? OFFSET ?) h "
            f"CROSS JOIN items ON items.rowid = h.rowid ORDER BY {order}",
            (query.size, (query.page - 1) * query.size)).fetchall()
        facets = {}
        if query.facets:
            facets = self._facets("_hits items", "", [])
        return self._result(query, parsed, total, rows, facets)

    def _listing(self, query: SearchQuery) -> SearchResult:
        """No words to match: filters only, newest first (the web page's first view)."""
        where, args = self._where(query)
        where_sql = (" WHERE " + " AND ".join(where)) if where else ""
        order = "items.ts ASC, items.rowid ASC" if query.sort == "date_asc" else \
            "items.ts DESC, items.rowid DESC"
        rows = self._conn.execute(
            f"SELECT {_QUALIFIED_COLUMNS}, NULL AS _rank FROM items{where_sql} "
            f"ORDER BY {order} LIMIT ? OFFSET ?",
            [*args, query.size, (query.page - 1) * query.size]).fetchall()
        total, facets = self._cached(("listing", where_sql, tuple(args), query.facets),
                                     lambda: self._listing_counts(where_sql, args, query.facets))
        return self._result(query, parse_query(None), total, rows, facets)

    def _listing_counts(self, where_sql: str, args: list[Any], with_facets: bool
                        ) -> tuple[int, dict[str, dict[str, int]]]:
        total = self._conn.execute(f"SELECT COUNT(*) FROM items{where_sql}", args).fetchone()[0]
        if not with_facets:
            return total, {}
        return total, self._facets("items", where_sql, args)

    def _cached(self, key: tuple[Any, ...], compute: Any) -> Any:
        """``compute()``, reused by every thread until the database changes (any connection,
        any process). Computed outside the lock: two threads may both compute a new key."""
        generation = self._current_generation()
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] == generation:
                self._cache.move_to_end(key)
                return hit[1]
        value = compute()
        with self._cache_lock:
            self._cache[key] = (generation, value)
            self._cache.move_to_end(key)
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)
        return value

    def _current_generation(self) -> int:
        """A number that changes whenever the data may have changed since it was last read.

        ``PRAGMA data_version`` changes when another connection commits, but its values mean
        something only on their own connection: each thread compares with what it saw last
        and moves the shared generation on when it differs (or on its first look). Commits
        made through this store move it on in ``_write``. An entry is stored with the
        generation read before it was computed, so a result that may predate a commit is
        never served after the commit was seen."""
        version = self._conn.execute("PRAGMA data_version").fetchone()[0]
        with self._cache_lock:
            if getattr(self._local, "data_version", None) != version:
                self._local.data_version = version
                self._generation += 1
            return self._generation

    def _bump_generation(self) -> None:
        with self._cache_lock:
            self._generation += 1

    def _result(self, query: SearchQuery, parsed: ParsedQuery, total: int,
                rows: list[sqlite3.Row], facets: dict[str, dict[str, int]]) -> SearchResult:
        items = self._items_from_rows(rows)
        tokens = parsed.positive_tokens
        hits = []
        for row, item in zip(rows, items, strict=True):
            highlights: dict[str, str] = {}
            if query.highlight and tokens:
                for field, value in (("title", item.title), ("text", item.text)):
                    snippet = highlight(value, tokens, whole=field == "title")
                    if snippet:
                        highlights[field] = snippet
            score = None if row["_rank"] is None else -row["_rank"]
            hits.append(SearchHit(item=item, score=score, highlights=highlights))
        return SearchResult(total=total, items=hits, facets=facets)

    def _facets(self, source: str, where_sql: str, args: list[Any]
                ) -> dict[str, dict[str, int]]:
        """Counts per dimension over the rows of ``source`` (a table aliased ``items``)
        that pass ``where_sql``."""
        conn = self._conn
        if source == "items" and not where_sql:
            # every item: each column's count is a scan of its own (covering) index, and
            # each tag count a scan of tags_by_tag
            facets: dict[str, dict[str, int]] = {
                dim: {r[0]: r[1] for r in conn.execute(
                    f"SELECT items.{column}, COUNT(*) FROM items GROUP BY 1 ORDER BY 2 DESC, 1")}
                for dim, column in _DIM_COLUMN.items()}
            for dim in ("theme", "anniversary"):
                facets[dim] = {r[0]: r[1] for r in conn.execute(
                    "SELECT tag, COUNT(*) FROM tags WHERE kind = ? GROUP BY 1 ORDER BY 2 DESC, 1",
                    [dim])}
            return facets
        # some rows: one pass reads each (wide) item row once for the three columns
        counts: dict[str, dict[str, int]] = {dim: {} for dim in _DIM_COLUMN}
        columns = ", ".join(f"items.{column}" for column in _DIM_COLUMN.values())
        for row in conn.execute(
                f"SELECT {columns}, COUNT(*) FROM {source}{where_sql} GROUP BY 1, 2, 3", args):
            for position, dim in enumerate(_DIM_COLUMN):
                bucket = counts[dim]
                bucket[row[position]] = bucket.get(row[position], 0) + row[3]
        facets = {dim: dict(sorted(values.items(), key=lambda kv: (-kv[1], kv[0])))
                  for dim, values in counts.items()}
        for dim in ("theme", "anniversary"):
            # the selected items drive the join, each probing tags by its key (scanning
            # every tag of the kind and probing items instead: 250 ms at 1M items)
            facets[dim] = {r[0]: r[1] for r in conn.execute(
                f"SELECT t.tag, COUNT(*) FROM {source} CROSS JOIN tags t "
                f"ON t.item_rowid = items.rowid AND t.kind = ?{where_sql} "
                "GROUP BY 1 ORDER BY 2 DESC, 1", [dim, *args])}
        return facets

    # ------------------------------------------------------------ coverage
    def coverage(self, query: CoverageQuery) -> list[CoverageRow]:
        where, args = self._where(query)
        joins: list[str] = []
        select: list[str] = []
        join_args: list[Any] = []
        for dim in query.group_by:
            if dim in _DIM_COLUMN:
                select.append(f"items.{_DIM_COLUMN[dim]}")
            else:
                alias = f"g_{dim}"
                joins.append(f"JOIN tags {alias} ON {alias}.item_rowid = items.rowid "
                             f"AND {alias}.kind = ? AND {alias}.score >= ?")
                join_args.extend([dim, query.min_score])
                select.append(f"{alias}.tag")
        if query.interval:
            column = {"day": "day", "week": "week", "month": "month"}[query.interval]
            select.append(f"items.{column}")
            where.append(f"items.{column} IS NOT NULL")
        select_sql = ", ".join(select + ["COUNT(*)"])
        group_sql = (" GROUP BY " + ", ".join(str(i + 1) for i in range(len(select)))
                     if select else "")
        where_sql = (" WHERE " + " AND ".join(where)) if where else ""
        sql = f"SELECT {select_sql} FROM items {' '.join(joins)}{where_sql}{group_sql}"
        rows = []
        for r in self._conn.execute(sql, join_args + args):
            values = list(r)
            keys = {dim: values[i] for i, dim in enumerate(query.group_by)}
            period = values[len(query.group_by)] if query.interval else None
            rows.append(CoverageRow(keys=keys, period=period, count=values[-1]))
        rows.sort(key=lambda row: (row.period or "", tuple(row.keys.values())))
        return rows

    # ------------------------------------------------------------ feedback
    def add_feedback(self, feedback: Feedback) -> Feedback:
        with self._write() as conn:
            new_id = conn.execute(
                "INSERT INTO feedback (item_id, label_kind, label, action, user, at, at_ts, note) "
                "VALUES (?,?,?,?,?,?,?,?)",
                (feedback.item_id, feedback.label_kind, feedback.label, feedback.action,
                 feedback.user, feedback.at.isoformat(), feedback.at.timestamp(),
                 feedback.note)).lastrowid
        return feedback.model_copy(update={"id": new_id})

    def list_feedback(self, *, item_id: str | None = None, since: datetime | None = None,
                      until: datetime | None = None) -> list[Feedback]:
        where, args = [], []
        if item_id:
            where.append("item_id = ?")
            args.append(item_id)
        if since:
            where.append("at_ts >= ?")
            args.append(since.timestamp())
        if until:
            where.append("at_ts < ?")
            args.append(until.timestamp())
        sql = "SELECT * FROM feedback" + (" WHERE " + " AND ".join(where) if where else "")
        return [Feedback(id=r["id"], item_id=r["item_id"], label_kind=r["label_kind"],
                         label=r["label"], action=r["action"], user=r["user"], at=r["at"],
                         note=r["note"])
                for r in self._conn.execute(sql + " ORDER BY at_ts, id", args)]

    # ------------------------------------------------------------ source state
    def get_source_state(self, source_id: str) -> SourceState | None:
        row = self._conn.execute("SELECT state FROM source_state WHERE source_id=?",
                                 (source_id,)).fetchone()
        return SourceState.model_validate_json(row[0]) if row else None

    def put_source_state(self, state: SourceState) -> None:
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO source_state VALUES (?,?,?)",
                         (state.source_id, state.model_dump_json(), _utc_now()))

    def list_source_states(self) -> dict[str, SourceState]:
        return {r[0]: SourceState.model_validate_json(r[1]) for r in self._conn.execute(
            "SELECT source_id, state FROM source_state ORDER BY source_id")}
