"""Tagging in a child process during import: the same tags as in-process, nothing lost if
the child dies."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from dophu.context import Context
from dophu.importer import import_file
from dophu.models import Item
from dophu.pipeline import ItemPipeline
from dophu.tag_worker import TaggingWorker
from dophu.tagging import load_tagger
from store.sqlite import SQLiteStore
from tests.conftest import read_news


def _news_file(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "news.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in read_news(count)),
                    encoding="utf-8")
    return path


def _tags(store: SQLiteStore) -> dict[str, tuple[Any, ...]]:
    return {i.id: (i.relevant, [(t.id, t.score) for t in i.themes],
                   [(t.id, t.score) for t in i.anniversaries])
            for i in store.iter_items()}


def test_parallel_import_stores_the_same_tags(config_dir: Path, tmp_path: Path) -> None:
    context = Context(config_dir=config_dir, data_dir=tmp_path / "data")
    tagger = load_tagger(context)
    path = _news_file(tmp_path, 1200)
    results = {}
    for parallel in (False, True):
        store = SQLiteStore(tmp_path / f"{parallel}.sqlite3")
        report = import_file(path, store, context.sources, tagger=tagger, parallel=parallel)
        assert report.read == 1200 and not report.rejected
        results[parallel] = (report.new, _tags(store))
        store.close()
    assert results[True] == results[False]
    new, tags = results[True]
    assert len(tags) == new > 1000
    assert sum(1 for relevant, _, _ in tags.values() if relevant) > 10   # real tags, not none


class DiesInAChild:
    """Tags like the real tagger in the parent; kills the process it runs in otherwise."""

    def __init__(self, tagger: Any):
        self.tagger, self.parent = tagger, os.getpid()

    def tag_items(self, items: list[Item]) -> list[Item]:
        if os.getpid() != self.parent:
            os._exit(1)
        return self.tagger.tag_items(items)

    def tag_item(self, item: Item) -> Item:
        return self.tag_items([item])[0]


def test_a_dead_tagging_child_loses_nothing(config_dir: Path, tmp_path: Path) -> None:
    context = Context(config_dir=config_dir, data_dir=tmp_path / "data")
    real = load_tagger(context)
    items = [Item(id=f"x{n}", source="baocantho", unit="bao-can-tho", kind="newspaper",
                  url=f"https://example.vn/{n}", title=row["title"], text=row["summary"])
             for n, row in enumerate(read_news(700))]
    store = SQLiteStore(tmp_path / "store.sqlite3")
    pipeline = ItemPipeline(store, DiesInAChild(real), batch_size=200, parallel=True)
    result = pipeline.run(items)
    assert result.new == len(items)
    expected = {i.id: i.relevant for i in real.tag_items(items)}
    assert {i.id: i.relevant for i in store.iter_items()} == expected
    store.close()


def test_a_worker_that_loads_its_own_tagger_tags_as_this_process_does(config_dir: Path,
                                                                      tmp_path: Path) -> None:
    """The crawl's form: the child builds the tagger; if the child dies, the parent builds
    one and the batch is still tagged."""
    context = Context(config_dir=config_dir, data_dir=tmp_path / "data")
    real = load_tagger(context)
    items = [Item(id=f"x{n}", source="baocantho", unit="bao-can-tho", kind="newspaper",
                  url=f"https://example.vn/{n}", title=row["title"], text=row["summary"])
             for n, row in enumerate(read_news(300))]
    expected = {i.id: (i.relevant, i.themes, i.anniversaries) for i in real.tag_items(items)}
    parent = os.getpid()
    loads: list[int] = []

    def loader() -> Any:
        loads.append(os.getpid())
        return load_tagger(context)

    worker = TaggingWorker(loader=loader)
    try:
        assert worker.started is not None and worker.started.result(timeout=60) is True
        tagged = worker.tag(items)
    finally:
        worker.close()
    assert {i.id: (i.relevant, i.themes, i.anniversaries) for i in tagged} == expected
    assert parent not in loads                      # built in the child only

    doomed = DiesInAChild(real)                     # made here: it kills the child that tags
    dying = TaggingWorker(loader=lambda: doomed)
    try:
        tagged = dying.tag(items)
    finally:
        dying.close()
    assert {i.id: (i.relevant, i.themes, i.anniversaries) for i in tagged} == expected


def test_a_worker_without_a_classifier_leaves_items_untagged() -> None:
    item = Item(id="x", source="s", unit="bao-can-tho", kind="newspaper", title="Tin")
    worker = TaggingWorker(loader=lambda: None)
    try:
        assert worker.tag([item]) == [item]
    finally:
        worker.close()
