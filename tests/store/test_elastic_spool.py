"""While the cluster is down, writes go to a local spool and are replayed when it is back.

The cluster is first a closed port, then a fake Elasticsearch (tests/store/fake_es.py)
started on that same port.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dophu.models import SourceState
from store.base import SearchQuery, StoreUnavailable
from store.elastic import ElasticStore
from store.spool import SPOOL_FILENAME, Spool, SpoolingStore
from tests.dophu.cli_runner import Dophu
from tests.store.es_testkit import free_port, serve
from tests.store.factory import make_item
from tests.store.fake_es import FakeElasticsearch


class Cluster:
    """A port that is closed until ``up()`` starts a fake cluster on it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.fake = FakeElasticsearch()
        self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> FakeElasticsearch:
        self.server = serve(self.fake, self.port)
        return self.fake

    def down(self) -> None:
        if self.server is not None and self.server.is_running():
            self.server.stop()


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    cluster = Cluster()
    yield cluster
    cluster.down()


def spooling(cluster: Cluster, path: Path, **kwargs) -> SpoolingStore:
    remote = ElasticStore(cluster.url, prefix="dophu", refresh=True, max_retries=0,
                          request_timeout=3, bulk_backoff=0)
    return SpoolingStore(remote, path, retry_interval=kwargs.pop("retry_interval", 0), **kwargs)


def test_items_wait_in_the_spool_and_arrive_once_in_order(cluster: Cluster,
                                                          tmp_path: Path) -> None:
    store = spooling(cluster, tmp_path / SPOOL_FILENAME, batch_size=2)
    first = [make_item(i) for i in range(5)]
    assert store.upsert(first).model_dump() == {"new": 0, "updated": 0, "unchanged": 0}
    edited = first[0].model_copy(update={"title": "Bản sửa lần hai"})
    store.upsert([edited])                                  # the same id again, later
    store.put_source_state(SourceState(source_id="baocantho", consecutive_failures=0))
    assert store.spool.pending() == 6 and store.spooled == 6
    # what a crawl asks while the cluster is down is answered from the spool
    assert store.get(first[0].id).title == "Bản sửa lần hai"
    assert store.known_ids([first[1].id, "nope"]) == {first[1].id}
    assert store.find_by_content_hash(first[2].content_hash) == [first[2].id]
    assert set(store.list_source_states()) == {"baocantho"}
    with pytest.raises(StoreUnavailable):
        store.search(SearchQuery(text="bai"))

    fake = cluster.up()
    later = make_item(9)
    assert store.upsert([later]).new == 1                  # replays first, then writes
    assert store.spool.pending() == 0 and store.replayed == 6
    docs = fake.docs("dophu-items")
    assert set(docs) == {i.id for i in first} | {later.id}
    assert docs[first[0].id]["title"] == "Bản sửa lần hai"  # the later version won
    assert store.get_source_state("baocantho") is not None
    assert "baocantho" in fake.docs("dophu-source-state")
    bulks = [body for _, path, body in fake.requests if path == "/_bulk"]
    replayed_ids = [line["index"]["_id"] for body in bulks for line in body if "index" in line]
    assert replayed_ids[:5] == [i.id for i in first[:2]] + [i.id for i in first[2:4]] + [
        first[4].id]
    store.close()


def test_the_spool_survives_a_restart(cluster: Cluster, tmp_path: Path) -> None:
    path = tmp_path / SPOOL_FILENAME
    crawl = spooling(cluster, path)
    crawl.upsert([make_item(1), make_item(2)])
    crawl.close()                           # the cluster is still down: items stay on disk
    assert Spool(path).pending() == 2
    fake = cluster.up()
    next_run = spooling(cluster, path)
    assert next_run.replay() is True
    assert len(fake.docs("dophu-items")) == 2 and next_run.spool.pending() == 0
    next_run.close()


def test_a_replay_cut_short_goes_on_without_duplicates(cluster: Cluster,
                                                       tmp_path: Path) -> None:
    store = spooling(cluster, tmp_path / SPOOL_FILENAME, batch_size=2)
    items = [make_item(i) for i in range(6)]
    store.upsert(items)
    fake = cluster.up()
    fake.fail("/_bulk", 503, "cluster_block_exception", times=1)
    fake.requests.clear()
    # first batch: mget ok, bulk refused (503): nothing is removed from the spool
    assert store.replay() is False and store.spool.pending() == 6
    assert store.replay() is True and store.spool.pending() == 0
    assert len(fake.docs("dophu-items")) == 6
    again = store.upsert(items)
    assert again.unchanged == 6 and again.new == 0
    store.close()


def test_items_the_cluster_refuses_are_set_aside_not_lost(cluster: Cluster,
                                                          tmp_path: Path) -> None:
    store = spooling(cluster, tmp_path / SPOOL_FILENAME, batch_size=10)
    good, bad = make_item(1), make_item(2)
    store.upsert([good, bad])
    fake = cluster.up()
    fake.reject_item(bad.id, 400, "document_parsing_exception", "bad")
    assert store.replay() is True
    assert store.spool.pending() == 0 and store.spool.rejected() == 1
    assert good.id in fake.docs("dophu-items")
    store.close()


def test_a_down_cluster_is_not_asked_again_at_once(cluster: Cluster, tmp_path: Path) -> None:
    path = tmp_path / SPOOL_FILENAME
    store = spooling(cluster, path, retry_interval=3600)
    store.upsert([make_item(1)])
    fake = cluster.up()
    store.upsert([make_item(2)])            # still resting: spooled without asking
    store.close()                           # nor when closing: the next run replays
    assert fake.requests == [] and Spool(path).pending() == 2
    next_run = spooling(cluster, path, retry_interval=3600)
    assert next_run.upsert([make_item(3)]).new == 1
    next_run.close()
    assert len(fake.docs("dophu-items")) == 3 and Spool(path).pending() == 0


def test_spool_command_shows_and_replays(cluster: Cluster, tmp_path: Path,
                                         config_dir: Path, data_dir: Path) -> None:
    store = spooling(cluster, data_dir / SPOOL_FILENAME)
    store.upsert([make_item(1), make_item(2)])
    store.spool.close()
    dophu = Dophu(config_dir, data_dir)
    status = dophu.json("index", "spool")
    assert status["pending_items"] == 2
    down = dophu("index", "spool", "--replay", "--es-url", cluster.url)
    assert down.exit_code == 1 and "still unreachable" in down.stderr
    fake = cluster.up()
    done = dophu.json("index", "spool", "--replay", "--es-url", cluster.url)
    assert done["pending_items"] == 0 and done["replayed_items"] == 2
    assert len(fake.docs("dophu-items")) == 2
