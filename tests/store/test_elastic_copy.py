"""``dophu index copy``: SQLite → Elasticsearch and back, resumable, counts checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from dophu.models import Feedback, SourceState
from store import STORE_FILENAME
from store.base import StoreError
from store.copy import Checkpoint, copy_store
from store.elastic.index import from_source
from store.sqlite import SQLiteStore
from tests.dophu.cli_runner import Dophu
from tests.store.es_testkit import _shared_server, fake_es  # noqa: F401
from tests.store.factory import make_item

ITEMS = [make_item(i, themes={"dai-hoi-dang": 0.5 + i / 100} if i % 3 == 0 else None,
                   published_at=None if i == 7 else f"2025-04-{1 + i % 28:02d}T09:00:00+07:00")
         for i in range(23)]
FEEDBACK = [Feedback(item_id=ITEMS[0].id, label_kind="theme", label="dai-hoi-dang",
                     action="confirm", user="lan", at="2025-05-02T09:00:00+07:00"),
            Feedback(item_id=ITEMS[1].id, label_kind="theme", label="niem-tin-moi",
                     action="add", user="minh", at="2025-05-03T09:00:00+07:00", note="ok")]


def fill(data_dir: Path) -> SQLiteStore:
    sqlite = SQLiteStore(data_dir / STORE_FILENAME)
    sqlite.upsert(ITEMS)
    for feedback in FEEDBACK:
        sqlite.add_feedback(feedback)
    sqlite.put_source_state(SourceState(source_id="baocantho", consecutive_failures=1,
                                        last_error="HTTP 500"))
    return sqlite


def test_copy_to_elasticsearch_and_back(fake_es, config_dir: Path, data_dir: Path,  # noqa: F811
                                        tmp_path: Path) -> None:
    fake, server = fake_es
    url = f"http://127.0.0.1:{server.port}"
    original = fill(data_dir)
    dophu = Dophu(config_dir, data_dir)
    result = dophu("index", "copy", "--from", "sqlite", "--to", "elasticsearch", "--es-url",
                   url, "--batch-size", "5", "--json")
    assert result.exit_code == 0, result.stderr
    assert "copied 23/23 items (100%)" in result.stderr      # plain lines off a terminal
    import json

    report = json.loads(result.stdout)
    assert report["items_copied"] == report["items_in_source"] == report[
        "items_in_target"] == 23
    assert report["feedback_copied"] == 2 and report["states_copied"] == 1
    docs = fake.docs("dophu-items")
    for item in ITEMS:
        assert from_source(docs[item.id]) == original.get(item.id)
    assert len([b for _, p, b in fake.requests if p == "/_bulk"]) == 5
    assert not (data_dir / "index-copy-sqlite-to-elasticsearch.json").exists()

    # a second run adds nothing (feedback is not doubled)
    again = dophu("index", "copy", "--from", "sqlite", "--to", "elasticsearch", "--es-url", url,
                  "--json")
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout)["feedback_copied"] == 0
    assert len(fake.docs("dophu-feedback")) == 2

    # and back, into an empty data dir
    other = tmp_path / "other-data"
    back = Dophu(config_dir, other)("index", "copy", "--from", "elasticsearch", "--to",
                                    "sqlite", "--es-url", url, "--batch-size", "7")
    assert back.exit_code == 0, back.stderr
    assert "items: 23 in elasticsearch, 23 in sqlite" in back.stderr
    copied = SQLiteStore(other / STORE_FILENAME)
    assert [i.model_dump() for i in copied.iter_items()] == [
        i.model_dump() for i in original.iter_items()]
    assert [(f.user, f.action, f.note) for f in copied.list_feedback()] == [
        ("lan", "confirm", ""), ("minh", "add", "ok")]
    assert copied.list_source_states() == original.list_source_states()


def test_a_stopped_copy_goes_on_from_its_checkpoint(fake_es, config_dir: Path,  # noqa: F811
                                                   data_dir: Path) -> None:
    fake, server = fake_es
    url = f"http://127.0.0.1:{server.port}"
    fill(data_dir)
    dophu = Dophu(config_dir, data_dir)
    # the cluster answers two bulk requests, then is gone
    dophu("index", "copy", "--from", "sqlite", "--to", "elasticsearch", "--es-url", url,
          "--batch-size", "5", "--restart")
    fake.indices.clear(), fake.aliases.clear(), fake.requests.clear()
    checkpoint = data_dir / "index-copy-sqlite-to-elasticsearch.json"
    original_handle = fake._bulk
    calls = {"n": 0}

    def failing_third(lines, args):
        calls["n"] += 1
        if calls["n"] >= 3:       # and stays gone (the transport retries too)
            return 503, {"error": {"type": "cluster_block_exception", "reason": "gone"},
                         "status": 503}
        return original_handle(lines, args)

    fake._bulk = failing_third
    stopped = dophu("index", "copy", "--from", "sqlite", "--to", "elasticsearch", "--es-url",
                    url, "--batch-size", "5")
    assert stopped.exit_code == 1 and "HTTP 503" in stopped.stderr
    assert checkpoint.exists()
    import json

    saved = json.loads(checkpoint.read_text())
    assert saved["copied"] == 10 and saved["last_id"] == sorted(i.id for i in ITEMS)[9]
    fake._bulk = original_handle
    resumed = dophu("index", "copy", "--from", "sqlite", "--to", "elasticsearch", "--es-url",
                    url, "--batch-size", "5", "--json")
    assert resumed.exit_code == 0, resumed.stderr
    report = json.loads(resumed.stdout)
    assert report["resumed_after"] == saved["last_id"] and report["items_in_target"] == 23
    assert len(fake.docs("dophu-items")) == 23 and not checkpoint.exists()


def test_copy_checks_the_counts_at_the_end(tmp_path: Path) -> None:
    source = SQLiteStore(tmp_path / "a.sqlite3")
    source.upsert(ITEMS)

    class Lossy(SQLiteStore):
        """A target that claims the ids but lost some items (counted at the end)."""

        def count(self, filters=None) -> int:
            return super().count(filters) - 1

    target = Lossy(tmp_path / "b.sqlite3")
    checkpoint = Checkpoint(tmp_path / "ck.json", "x->y")
    with pytest.raises(StoreError, match="incomplete"):
        copy_store(source, target, checkpoint, batch_size=10)
    assert checkpoint.path.exists()        # a rerun goes on from the checkpoint


def test_checkpoint_of_another_copy_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ck.json"
    Checkpoint(path, "sqlite->elasticsearch").save("abc", 3)
    with pytest.raises(StoreError, match="--restart"):
        Checkpoint(path, "elasticsearch->sqlite").load()


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "mysql", "--to", "sqlite"], "expected sqlite or elasticsearch"),
    (["--from", "sqlite", "--to", "sqlite"], "same store"),
    (["--from", "sqlite", "--to", "elasticsearch"], "ELASTICSEARCH_URL"),
])
def test_bad_copy_options_are_named(config_dir: Path, data_dir: Path, monkeypatch,
                                    args: list[str], message: str) -> None:
    monkeypatch.delenv("ELASTICSEARCH_URL", raising=False)
    fill(data_dir).close()
    result = Dophu(config_dir, data_dir)("index", "copy", *args)
    assert result.exit_code == 2 and message in result.stderr
