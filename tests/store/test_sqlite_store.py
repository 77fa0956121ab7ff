"""What only the embedded store has: a file, WAL, migrations, read-only opening."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from store import STORE_FILENAME, open_store
from store.base import SearchQuery, StoreError
from store.query import parse_query
from store.sqlite import SCHEMA_VERSION, SQLiteStore, fts_expression
from tests.store.factory import make_item


def test_one_file_in_wal_mode_with_schema_version(tmp_path: Path) -> None:
    store = open_store(tmp_path, elasticsearch_url="")
    assert isinstance(store, SQLiteStore)
    store.upsert([make_item(1)])
    assert (tmp_path / STORE_FILENAME).exists()
    conn = sqlite3.connect(tmp_path / STORE_FILENAME)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store.integrity_check() == "ok"
    store.close()


def test_plain_sql_is_readable(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite3")
    store.upsert([make_item(1, title="Đại hội", themes={"dai-hoi-dang": 0.9})])
    conn = sqlite3.connect(tmp_path / "s.sqlite3")
    row = conn.execute("SELECT i.title, t.tag, t.score FROM items i JOIN tags t "
                       "ON t.item_rowid = i.rowid").fetchone()
    assert row == ("Đại hội", "dai-hoi-dang", 0.9)
    # the FTS table holds the folded copy (đ → d), which is why "dai" finds "Đại"
    assert conn.execute("SELECT title FROM items_fts").fetchone()[0] == "Dai hoi"


def test_reopening_keeps_data_and_does_not_remigrate(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    SQLiteStore(path).upsert([make_item(1), make_item(2)])
    again = SQLiteStore(path)
    assert again.count() == 2 and again.schema_version == SCHEMA_VERSION


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    SQLiteStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        SQLiteStore(path)


def test_read_only_store_reads_but_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    SQLiteStore(path).upsert([make_item(1, title="Quốc khánh")])
    readonly = SQLiteStore(path, readonly=True)
    assert readonly.search(SearchQuery(text="quoc khanh")).total == 1
    with pytest.raises(StoreError, match="read-only"):
        readonly.upsert([make_item(2)])


def test_unwritable_data_dir_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a dir")
    with pytest.raises(StoreError, match="cannot"):
        SQLiteStore(blocker / "sub" / "s.sqlite3")


def test_fts_expression_quotes_every_token() -> None:
    parsed = parse_query('Đại hội "đảng bộ" -"mặt bằng" a OR b* NEAR(x)')
    assert fts_expression(parsed) == ('"dai" AND "hoi" AND "dang bo" AND ("a" OR "b"*) '
                                      'AND "near" AND "x" NOT "mat bang"')


def test_threads_each_get_a_connection(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    store = SQLiteStore(tmp_path / "s.sqlite3")
    store.upsert([make_item(i, title=f"Đảng bộ {i}") for i in range(50)])

    def search(_: int) -> int:
        return store.search(SearchQuery(text="dang bo", size=5)).total

    with ThreadPoolExecutor(4) as pool:
        assert set(pool.map(search, range(40))) == {50}
