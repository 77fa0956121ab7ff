"""The item pipelines in process: tagging (or not), batches per source, near-dup swaps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from crawlers.ledger import Ledger
from crawlers.neardup import NearDuplicateIndex
from crawlers.pipelines import (
    CrawledItem,
    ExactDedupPipeline,
    NearDedupPipeline,
    SourceBatches,
    StorePipeline,
)
from crawlers.state import SourceRun, new_state
from dophu.config import Source
from dophu.models import Item, Tag, item_id_for_url
from store.sqlite import SQLiteStore
from tests.crawlers.sitekit import paragraphs

NOW = datetime(2025, 4, 28, 1, 0, tzinfo=UTC)
STORY = "\n".join(paragraphs("Đại hội Đảng bộ phường Ninh Kiều lần thứ I", 6))


def item(url: str, source: str, title: str = "Đại hội Đảng bộ phường", text: str = STORY,
         published: datetime = NOW) -> Item:
    return Item(id=item_id_for_url(url), url=url, source=source, unit="bao-can-tho",
                kind="newspaper", title=title, text=text, published_at=published)


class FakeTagger:
    def tag_item(self, value: Item) -> Item:
        return value.model_copy(update={"relevant": True, "themes": [
            Tag(id="dai-hoi-dang", score=0.9, evidence=["Đại hội Đảng bộ"])]})


def crawl(tmp_path: Path, tagger: Any, batch_size: int = 2) -> tuple[Any, list[Any]]:
    store = SQLiteStore(tmp_path / "store.sqlite3")
    sources = [Source(id=s, name=s, unit="bao-can-tho", kind="newspaper") for s in ("a", "b")]
    spider = SimpleNamespace(store=store, ledger=Ledger(tmp_path), tagger=tagger,
                             tag_batch=lambda items: items if tagger is None else [
                                 tagger.tag_item(i) for i in items],
                             neardup=NearDuplicateIndex(0.8),
                             book={s.id: SourceRun(source=s, state=new_state(s.id))
                                   for s in sources})
    spider.store_writer = SourceBatches(spider, batch_size)  # type: ignore[arg-type]
    crawler = SimpleNamespace(spider=spider)
    stages = [cls(crawler) for cls in (ExactDedupPipeline, NearDedupPipeline, StorePipeline)]
    for stage in stages:
        if hasattr(stage, "open_spider"):
            stage.open_spider()
    return spider, stages


def push(stages: list[Any], value: Item) -> CrawledItem:
    crawled = CrawledItem(item=value, page_urls=[value.url or ""])
    for stage in stages:
        crawled = stage.process_item(crawled)
    return crawled


def test_untagged_without_a_classifier_and_counted_per_source(tmp_path: Path) -> None:
    spider, stages = crawl(tmp_path, tagger=None)
    push(stages, item("https://a.vn/1", "a", text=STORY))
    push(stages, item("https://a.vn/2", "a", title="Khác", text="Một tin hoàn toàn khác."))
    push(stages, item("https://b.vn/3", "b", title="Tin b", text="Tin của nguồn b."))
    assert spider.store.count() == 2                     # source a's batch of 2 is flushed
    stages[-1].close_spider()
    assert spider.store.count() == 3
    assert all(i.relevant is None and not i.themes for i in spider.store.iter_items())
    assert (spider.book["a"].new, spider.book["b"].new) == (2, 1)
    assert not spider.ledger.should_fetch("https://a.vn/1", None, 5)


def test_tags_exact_and_near_duplicates(tmp_path: Path) -> None:
    spider, stages = crawl(tmp_path, tagger=FakeTagger(), batch_size=1)
    paper = push(stages, item("https://a.vn/bai-goc", "a"))
    assert paper.item.relevant and paper.item.themes[0].id == "dai-hoi-dang"
    exact = push(stages, item("https://b.vn/ban-sao", "b"))
    assert exact.item.duplicate_of == paper.item.id and exact.item.source == "b"
    near = push(stages, item("https://b.vn/dang-lai", "b", title="Đại hội (nguồn Báo Cần Thơ)",
                             text="Theo Báo Cần Thơ. " + STORY, published=NOW + timedelta(1)))
    assert near.item.duplicate_of == paper.item.id
    assert near.item.meta["near_duplicate"] >= 0.8


def test_an_earlier_copy_becomes_the_original(tmp_path: Path) -> None:
    spider, stages = crawl(tmp_path, tagger=None, batch_size=1)
    later = push(stages, item("https://a.vn/dang-sau", "a", published=NOW + timedelta(days=1)))
    earlier = push(stages, item("https://b.vn/dang-truoc", "b", title="Đại hội (bản đầu)",
                                text=STORY + " Bản đăng đầu tiên.", published=NOW))
    assert earlier.item.duplicate_of is None
    stored_later = spider.store.get(later.item.id)
    assert stored_later.duplicate_of == earlier.item.id and stored_later.source == "a"
    assert list(spider.neardup.signatures) == [earlier.item.id]
