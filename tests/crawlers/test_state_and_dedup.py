"""The ledger, near-duplicates, health bookkeeping, sharding and the Scrapy settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawlers.ledger import Ledger
from crawlers.neardup import NearDuplicateIndex, from_bytes, signature, to_bytes
from crawlers.run import CrawlInputError, Shard
from crawlers.settings import scrapy_settings, user_agent
from crawlers.spiders.source_spider import near_duplicate_index
from crawlers.state import SourceRun, finish_state, new_state, next_due
from dophu.config import Source
from dophu.models import Item
from dophu.settings import CrawlSettings
from store.sqlite import SQLiteStore
from tests.crawlers.sitekit import paragraphs

NOW = datetime(2025, 4, 28, 1, 0, tzinfo=UTC)
STORY = "\n".join(paragraphs("Đại hội Đảng bộ phường Ninh Kiều lần thứ I", 6))


def test_ledger_decides_what_to_fetch(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    url = "https://x.vn/a.html"
    assert ledger.should_fetch(url, None, max_errors=3)
    ledger.mark_items([(url, "s", "id1", NOW)])
    assert not ledger.should_fetch(url, None, max_errors=3)          # known, no news of it
    assert not ledger.should_fetch(url, NOW, max_errors=3)           # same lastmod
    assert ledger.should_fetch(url, NOW + timedelta(hours=1), max_errors=3)  # it changed
    bad = "https://x.vn/b.html"
    for expected in (1, 2, 3):
        assert ledger.should_fetch(bad, None, max_errors=3)
        assert ledger.mark_error(bad, "s", "http 500") == expected
    assert not ledger.should_fetch(bad, None, max_errors=3)          # given up after 3
    assert ledger.failing_pages("s", max_errors=4) == [bad]
    ledger.mark_skipped("https://x.vn/lien-he", "s", "contact page")
    assert not ledger.should_fetch("https://x.vn/lien-he", None, max_errors=3)
    ledger.close()
    reopened = Ledger(tmp_path)
    assert reopened.page(url).item_id == "id1"
    assert reopened.counts("s") == {"item": 1, "error": 1, "skipped": 1}


def test_near_duplicates_found_and_the_earlier_story_is_the_original(tmp_path: Path) -> None:
    index = NearDuplicateIndex(threshold=0.8)
    original = signature("Đại hội Đảng bộ phường", STORY)
    assert original is not None
    index.add("paper", original, NOW.timestamp())
    copy = signature("Đại hội Đảng bộ phường (nguồn: Báo Cần Thơ)",
                     "Theo Báo Cần Thơ.\n" + STORY + "\nPhường Ninh Kiều")
    match = index.match("ward", copy, (NOW + timedelta(hours=5)).timestamp())
    assert match is not None and match.original == "paper" and match.similarity >= 0.8
    earlier = index.match("ward", copy, (NOW - timedelta(hours=5)).timestamp())
    assert earlier is not None and earlier.original == "ward" and earlier.swapped_out == "paper"
    other = signature("Giải đua thuyền", "\n".join(paragraphs("Giải đua ghe ngo", 6)).replace(
        "Thành phố Cần Thơ", "Quận Cái Răng").replace("cán bộ", "vận động viên"))
    assert index.match("sport", other, None) is None
    assert signature("Ngắn", "Chỉ vài chữ") is None                    # too short to judge
    ledger = Ledger(tmp_path)
    ledger.put_signatures([("paper", "bct", to_bytes(original), NOW.timestamp())])
    restored = NearDuplicateIndex(0.8)
    assert restored.load(ledger.signatures()) == 1
    assert restored.match("ward", copy, None).original == "paper"
    assert from_bytes(b"legacy:" + b"\0" * 1024) is None               # another scheme


def test_signature_similarity_estimates_the_jaccard_of_the_shingles() -> None:
    words = [f"tu{n}" for n in range(400)]
    a, b, c = " ".join(words[:300]), " ".join(words[100:400]), " ".join(words[300:] * 3)
    exact = 198 / (298 + 298 - 198)                       # 3-shingles of words 100..299 shared
    sig_a, sig_b, sig_c = signature("", a), signature("", b), signature("", c)
    assert sig_a is not None and sig_b is not None and sig_c is not None
    assert abs(sig_a.jaccard(sig_b) - exact) < 0.15         # 128 hashes: sd about 0.045
    assert sig_a.jaccard(signature("", a)) == 1.0
    assert sig_a.jaccard(sig_c) < 0.05
    assert from_bytes(to_bytes(sig_a)).jaccard(sig_a) == 1.0


def test_signatures_of_an_older_scheme_are_made_again_from_the_store(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "store.sqlite3")
    paper = Item(id="paper", url="https://a.vn/1", source="bct", unit="bao-can-tho",
                 kind="newspaper", title="Đại hội Đảng bộ phường", text=STORY,
                 published_at=NOW)
    store.upsert([paper])
    ledger = Ledger(tmp_path)
    ledger.put_signatures([("paper", "bct", b"affine32:" + b"\1" * 1024, NOW.timestamp()),
                           ("gone", "bct", b"affine32:" + b"\1" * 1024, None)])
    stored_at = dict(ledger.conn.execute("SELECT item_id, stored_at FROM signatures"))
    index = near_duplicate_index(ledger, store, NOW - timedelta(days=3650), 0.8)
    copy = signature("Đại hội Đảng bộ phường (nguồn: Báo Cần Thơ)", "Theo Báo Cần Thơ.\n" + STORY)
    assert index.match("ward", copy, None).original == "paper"
    rows = {r[0]: r[2] for r in ledger.signatures()}
    assert list(rows) == ["paper"]                                   # "gone" is not stored
    assert from_bytes(rows["paper"]) is not None                     # now in this scheme
    assert dict(ledger.conn.execute("SELECT item_id, stored_at FROM signatures")) == {
        "paper": stored_at["paper"]}                                 # the window is kept


SOURCE = Source(id="s", name="S", unit="bao-can-tho", kind="newspaper",
                home="https://x.vn/", interval="30m")


def test_a_failing_source_backs_off_and_is_never_dropped() -> None:
    state = new_state("s")
    for failures in range(1, 8):
        run = SourceRun(source=SOURCE, state=state)
        run.entry_point_failed("https://x.vn/rss", "http 500")
        state = finish_state(run, NOW)
        assert state.consecutive_failures == failures
        assert state.last_error == "http 500: https://x.vn/rss"
        assert NOW < state.next_due <= NOW + timedelta(days=1)
        assert state.status == "failing"
    assert next_due(SOURCE, 1, NOW) == NOW + timedelta(hours=1)
    run = SourceRun(source=SOURCE, state=state)
    run.entry_ok.add("https://x.vn/rss")
    run.validators["https://x.vn/rss"] = {"etag": '"abc"'}
    recovered = finish_state(run, NOW)
    assert recovered.consecutive_failures == 0 and recovered.last_error is None
    assert recovered.last_success == NOW and recovered.next_due == NOW + timedelta(minutes=30)
    assert recovered.http_cache["https://x.vn/rss"] == {"etag": '"abc"'}
    assert recovered.status == "no-new-items"
    assert recovered.recent_errors[0]["kind"] == "http 500"


def test_article_errors_do_not_fail_the_pass_and_partial_passes_keep_no_validators() -> None:
    run = SourceRun(source=SOURCE, state=new_state("s"))
    run.entry_ok.add("https://x.vn/rss")
    run.error("https://x.vn/a.html", "timeout")
    run.validators["https://x.vn/rss"] = {"etag": '"1"'}
    run.capped = True
    state = finish_state(run, NOW)
    assert state.consecutive_failures == 0 and state.last_error == "timeout: https://x.vn/a.html"
    assert state.http_cache == {}                  # capped: read the feed in full next time
    run.capped = False
    assert finish_state(run, NOW, complete=False).http_cache == {}


def test_shards_split_sources_stably() -> None:
    ids = [f"source-{i}" for i in range(40)]
    shards = [Shard.parse(f"{i}/3") for i in range(3)]
    owners = [[s for s in shards if s.holds(source_id)] for source_id in ids]
    assert all(len(o) == 1 for o in owners)
    assert all(any(s.holds(i) for i in ids) for s in shards)
    for bad in ("3/3", "x", "1/0", "-1/2"):
        with pytest.raises(CrawlInputError):
            Shard.parse(bad)


def test_scrapy_settings_follow_crawl_settings() -> None:
    crawl = CrawlSettings(user_agent="dophu/0.1", contact_url="https://example.org/lien-he",
                          download_delay=1.5, concurrency_per_host=1, max_page_bytes=1000,
                          timeout_seconds=12, retries=3)
    settings = scrapy_settings(crawl)
    assert settings["USER_AGENT"] == "dophu/0.1 (+https://example.org/lien-he)"
    assert settings["DOWNLOAD_DELAY"] == 1.5 and settings["CONCURRENT_REQUESTS_PER_DOMAIN"] == 1
    assert settings["DOWNLOAD_MAXSIZE"] == 1000 and settings["DOWNLOAD_TIMEOUT"] == 12
    assert settings["RETRY_TIMES"] == 3 and 429 in settings["RETRY_HTTP_CODES"]
    assert settings["ROBOTSTXT_OBEY"] and settings["AUTOTHROTTLE_ENABLED"]
    assert "dophu" in user_agent(CrawlSettings(user_agent="Mozilla/5.0"))
