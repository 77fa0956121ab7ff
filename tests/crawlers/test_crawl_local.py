"""Whole crawl passes (``dophu crawl`` in a subprocess) against small local sites."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from typer.testing import CliRunner

from crawlers.ledger import Ledger
from crawlers.run import Shard, pass_lock, select_sources
from dophu.cli import app
from dophu.context import Context
from dophu.models import item_id_for_url
from tests.crawlers.conftest import CrawlEnv, by_id, source
from tests.crawlers.sitekit import (
    RSS,
    XML,
    Site,
    article_page,
    listing_page,
    paragraphs,
    rss,
)


def newspaper(site: Site) -> dict[str, str]:
    """A paper with a section feed, a news sitemap and the usual surprises."""
    url = {name: site.url(path) for name, path in {
        "a1": "/thoi-su/khai-mac-dai-hoi-dang-bo-thanh-pho-1001.html",
        "a2": "/thoi-su/ra-mat-cong-trinh-chao-mung-50-nam-1002.html",
        "a3_old": "/tin-cu/1003.html",
        "a3": "/thoi-su/ngay-hoi-doan-ket-toan-dan-toc-1003.html",
        "a4": "/noi-bo/ke-hoach-hoc-tap-nghi-quyet-1004.html",
        "a5": "/xa-hoi/trao-qua-cho-gia-dinh-chinh-sach-1005.html",
        "contact": "/lien-he/",
    }.items()}
    site.add("/robots.txt", "User-agent: *\nDisallow: /noi-bo/\n"
                            f"Sitemap: {site.url('/sitemap-news.xml')}\n", "text/plain")
    site.add("/", "<html><head><link rel='alternate' type='application/rss+xml' "
                  "href='/rss/thoi-su.rss'></head><body><h1>Báo</h1></body></html>")
    site.add("/thoi-su/khai-mac-dai-hoi-dang-bo-thanh-pho-1001.html", article_page(
        "Khai mạc Đại hội Đảng bộ thành phố", paragraphs("Đại hội Đảng bộ"),
        published_meta="2025-04-28T08:15:00+07:00"))
    site.add("/thoi-su/ra-mat-cong-trinh-chao-mung-50-nam-1002.html", article_page(
        "Ra mắt công trình chào mừng 50 năm", paragraphs("Công trình"),
        canonical=url["a2"] + "?utm_source=facebook"))
    site.add("/tin-cu/1003.html", "", status=301, headers={"Location": url["a3"]})
    site.add("/thoi-su/ngay-hoi-doan-ket-toan-dan-toc-1003.html", article_page(
        "Ngày hội Đoàn kết toàn dân tộc", paragraphs("Ngày hội"),
        date_text="Thứ Hai, 28/04/2025 - 10:30"))
    site.add("/noi-bo/ke-hoach-hoc-tap-nghi-quyet-1004.html", article_page(
        "Kế hoạch nội bộ", paragraphs("Nội bộ")))
    site.add("/xa-hoi/trao-qua-cho-gia-dinh-chinh-sach-1005.html", article_page(
        "Trao quà cho gia đình chính sách", paragraphs("Trao quà"),
        date_text="08:15 ngày 27/4/2025"))
    site.add("/lien-he/", article_page("Liên hệ", ["Địa chỉ: Cần Thơ. Điện thoại: 0292."]))
    feed = rss("Thời sự", [
        {"title": "Khai mạc Đại hội", "link": url["a1"] + "?utm_source=rss&amp;utm_medium=feed",
         "pubDate": "Mon, 28 Apr 2025 08:15:00 +0700", "description": "Tóm tắt 1"},
        {"title": "Ra mắt công trình", "link": url["a2"],
         "pubDate": "Mon, 28 Apr 2025 09:00:00 +0700", "category": "Thời sự"},
        {"title": "Ngày hội", "link": url["a3_old"], "pubDate": "Mon, 28 Apr 2025 10:30:00 +0700"},
        {"title": "Nội bộ", "link": url["a4"]},
        {"title": "Liên hệ", "link": url["contact"]},
    ])
    site.add("/rss/thoi-su.rss", feed, RSS)
    site.add("/sitemap-news.xml", news_sitemap(url["a5"], "2025-04-27T08:15:00+07:00"), XML)
    return url


def news_sitemap(loc: str, lastmod: str) -> str:
    return ("<?xml version='1.0' encoding='UTF-8'?><urlset xmlns="
            "'http://www.sitemaps.org/schemas/sitemap/0.9'><url>"
            f"<loc>{loc}</loc><lastmod>{lastmod}</lastmod></url></urlset>")


def test_feed_site_first_pass_second_pass_and_an_update(env: CrawlEnv, site: Site) -> None:
    url = newspaper(site)
    env.sources([source("bao", site.url("/"))])
    first = by_id(env.crawl("--all"))["bao"]
    assert (first["new"], first["updated"]) == (4, 0)
    store = env.store()
    items = {item.url: item for item in store.iter_items()}
    assert set(items) == {url["a1"], url["a2"], url["a3"], url["a5"]}
    a1 = items[url["a1"]]                                   # tracking parameters stripped
    assert a1.id == item_id_for_url(url["a1"]) and a1.title == "Khai mạc Đại hội Đảng bộ thành phố"
    assert a1.published_at == datetime.fromisoformat("2025-04-28T08:15:00+07:00")
    assert (a1.source, a1.unit, a1.kind) == ("bao", "bao-can-tho", "newspaper")
    assert a1.relevant is None or isinstance(a1.relevant, bool)
    assert unicodedata.is_normalized("NFC", a1.text) and "Đại hội Đảng bộ" in a1.text
    a2 = items[url["a2"]]                                   # no date on the page: the feed's
    assert a2.published_at == datetime.fromisoformat("2025-04-28T09:00:00+07:00")
    assert a2.meta["published_from"] == "feed" and a2.meta["tags"] == ["Thời sự"]
    a3 = items[url["a3"]]                                   # the redirect is followed and kept
    assert a3.meta["redirects"] == [url["a3_old"]]
    assert a3.published_at == datetime.fromisoformat("2025-04-28T10:30:00+07:00")
    a5 = items[url["a5"]]                                   # found through the sitemap
    assert a5.published_at == datetime.fromisoformat("2025-04-27T08:15:00+07:00")
    assert "/noi-bo/ke-hoach-hoc-tap-nghi-quyet-1004.html" not in site.paths()
    assert url["contact"] not in items                      # fetched, not an article
    assert all("https://example.org/dophu-contact" in hit.user_agent
               and "dophu" in hit.user_agent for hit in site.hits)
    state = env.source_rows()["bao"]["health"]
    assert state["discovered"]["feeds"] == [site.url("/rss/thoi-su.rss")]
    assert state["discovered"]["sitemaps"] == [site.url("/sitemap-news.xml")]
    assert state["consecutive_failures"] == 0
    assert any(e["kind"] == "robots-disallowed" for e in state["recent_errors"])

    site.hits.clear()
    second = by_id(env.crawl("--all"))["bao"]
    assert (second["new"], second["updated"], second["errors"]) == (0, 0, 0)
    assert site.hits and all(hit.status == 304 and hit.conditional for hit in site.hits)
    assert sorted(h.path for h in site.hits) == ["/", "/robots.txt", "/rss/thoi-su.rss",
                                                 "/sitemap-news.xml"]

    site.add("/xa-hoi/trao-qua-cho-gia-dinh-chinh-sach-1005.html", article_page(
        "Trao quà cho gia đình chính sách (cập nhật)", paragraphs("Trao quà"),
        date_text="08:15 ngày 27/4/2025"))
    site.add("/sitemap-news.xml", news_sitemap(url["a5"], "2025-04-29T10:00:00+07:00"), XML)
    site.hits.clear()
    third = by_id(env.crawl("--all"))["bao"]
    assert (third["new"], third["updated"]) == (0, 1)
    assert env.store().get(item_id_for_url(url["a5"])).title.endswith("(cập nhật)")
    fetched = [h.path for h in site.hits if h.status == 200]
    assert fetched == ["/sitemap-news.xml", "/xa-hoi/trao-qua-cho-gia-dinh-chinh-sach-1005.html"]


def quirky(site: Site) -> None:
    """Articles that fail in every way a site can fail, and one that works."""
    site.add("/robots.txt", "User-agent: *\nAllow: /\n", "text/plain")
    paths = {
        "ok": "/tin/bai-viet-binh-thuong-2001.html",
        "e500": "/tin/bai-viet-loi-may-chu-2002.html",
        "slow": "/tin/bai-viet-cham-chap-2003.html",
        "big": "/tin/bai-viet-qua-lon-2004.html",
        "busy": "/tin/bai-viet-may-chu-ban-2005.html",
        "later": "/tin/bai-viet-hen-mai-quay-lai-2006.html",
        "gone": "/tin/bai-viet-da-xoa-2007.html",
    }
    page = article_page("Bài viết", paragraphs("Tin"), published_meta="2025-04-28T08:00:00+07:00")
    site.add(paths["ok"], page)
    site.add(paths["e500"], "<h1>Lỗi</h1>", status=500)
    site.add(paths["slow"], page, delay=5)
    site.add(paths["big"], page.replace("</body>", "<!--" + "x" * 60_000 + "--></body>"))
    site.add(paths["busy"], page.replace("Bài viết", "Bài viết sau 429"), fail_first=1,
             fail_status=429, fail_headers={"Retry-After": "1"})
    site.add(paths["later"], page, fail_first=100, fail_status=429,
             fail_headers={"Retry-After": "7200"})
    site.add("/rss.xml", rss("Tin", [{"title": f"Bài {k}", "link": site.url(p)}
                                     for k, p in paths.items()]), RSS)


def test_faults_are_recorded_per_source_while_the_others_finish(
        env: CrawlEnv, site: Site, other_site: Site) -> None:
    quirky(site)
    other_site.add("/", "<h1>Lỗi</h1>", status=500)
    other_site.add("/robots.txt", "User-agent: *\nAllow: /\n", "text/plain")
    env.settings(download_delay=0, autothrottle=False, retry_backoff_seconds=0, retries=1,
                 timeout_seconds=2, max_page_bytes=40_000, max_retry_after_seconds=5)
    env.sources([source("quirky", site.url("/"), unit="phuong-ninh-kieu", kind="portal",
                        feeds=[site.url("/rss.xml")]),
                 source("broken", other_site.url("/"), unit="quan-cai-rang", kind="portal",
                        feeds=[other_site.url("/rss.xml")])])
    summary = by_id(env.crawl("--all"))
    assert summary["quirky"]["new"] == 2                # the normal page and the one after 429
    assert summary["quirky"]["status"] == "ok" and summary["quirky"]["errors"] >= 5
    assert summary["broken"]["status"] == "failed" and summary["broken"]["new"] == 0
    rows = env.source_rows()
    quirky_health = rows["quirky"]["health"]
    recent = env.store().get_source_state("quirky").recent_errors
    kinds = {e["url"].rsplit("/", 1)[-1]: e["kind"] for e in recent}
    assert kinds["bai-viet-loi-may-chu-2002.html"] == "http 500"
    assert kinds["bai-viet-cham-chap-2003.html"] == "timeout"
    assert kinds["bai-viet-qua-lon-2004.html"] == "too large"
    assert kinds["bai-viet-hen-mai-quay-lai-2006.html"] == "http 429"
    assert kinds["bai-viet-da-xoa-2007.html"] == "http 404"
    assert quirky_health["consecutive_failures"] == 0 and quirky_health["last_error"]
    broken = rows["broken"]["health"]
    assert broken["consecutive_failures"] == 1 and broken["status"] == "failing"
    assert "http 404" in broken["last_error"] or "http 500" in broken["last_error"]
    ledger = Ledger(env.data)
    errors = ledger.error_counts("quirky")
    assert errors[site.url("/tin/bai-viet-loi-may-chu-2002.html")] == 1
    assert len(errors) == 5
    ledger.close()
    human = env.sources_table()
    assert "LỖI" in human and "hoạt động" in human

    second = by_id(env.crawl("--all"))                  # failing pages are tried again
    assert second["quirky"]["errors"] >= 4 and second["quirky"]["new"] == 0
    assert env.source_rows()["broken"]["health"]["consecutive_failures"] == 2
    assert Ledger(env.data).error_counts("quirky")[
        site.url("/tin/bai-viet-loi-may-chu-2002.html")] == 2


def portal(site: Site) -> dict[str, str]:
    """A department portal: no feed, no sitemap, paginated listings, dates only as text."""
    site.add("/robots.txt", "User-agent: *\nDisallow:\n", "text/plain")
    site.add("/", "<html><body><nav><a href='/tin-tuc/van-hoa/'>Văn hóa</a>"
                  "<a href='/lien-he/'>Liên hệ</a><a href='/tag/van-hoa/'>Thẻ</a></nav>"
                  "<p>Cổng thông tin</p></body></html>")
    site.add("/lien-he/", article_page("Liên hệ", ["Điện thoại: 0292 000 0000."]))
    dates = ["Thứ Hai, 28/04/2025 - 08:15", "28-4-2025", "08:15 ngày 26/4/2025",
             "Ngày đăng: 25/04/2025", "24/04/2025 16:20", "23-4-2025"]
    listed = []
    for n, date in enumerate(dates):
        path = f"/tin-tuc/van-hoa/hoat-dong-van-hoa-chao-mung-ngay-le-so-{n + 1}-{3000 + n}.html"
        site.add(path, article_page(f"Hoạt động văn hóa số {n + 1}", paragraphs(f"Văn hóa {n}"),
                                    date_text=date))
        listed.append((path, f"Hoạt động văn hóa số {n + 1}", date))
    pages = [listed[0:2], listed[2:4], listed[4:6]]
    for number, rows in enumerate(pages, start=1):
        next_href = f"/tin-tuc/van-hoa/?page={number + 1}" if number < 3 else None
        path = "/tin-tuc/van-hoa/" if number == 1 else f"/tin-tuc/van-hoa/?page={number}"
        site.add(path, listing_page("Văn hóa", rows, next_href))
    video = "/video/phong-su-le-hoi-banh-dan-gian-nam-bo-3100.html"
    site.add(video, "<html><head><meta charset='utf-8'><title>Phóng sự lễ hội bánh dân gian"
                    "</title><meta property='og:type' content='video.other'>"
                    "<meta property='og:description' content='Phóng sự về lễ hội bánh dân gian "
                    "Nam Bộ tại Cần Thơ.'></head><body><h1>Phóng sự lễ hội bánh dân gian</h1>"
                    "<video src='/v.mp4'></video><p class='caption'>Phóng sự về lễ hội bánh "
                    "dân gian Nam Bộ tại Cần Thơ.</p><div class='date'>27/04/2025 19:00</div>"
                    "</body></html>")
    site.add("/", site.pages["/"].body.decode().replace(
        "</nav>", f"</nav><a href='{video}'>Phóng sự lễ hội bánh dân gian Nam Bộ</a>"))
    return {"video": site.url(video), **{f"d{n}": site.url(p) for n, (p, _, _) in
                                         enumerate(listed)}}


def test_listing_only_portal_with_pagination_and_vietnamese_dates(env: CrawlEnv,
                                                                  site: Site) -> None:
    url = portal(site)
    env.settings(download_delay=0, autothrottle=False, retry_backoff_seconds=0,
                 listing_depth=1)
    env.sources([source("so", site.url("/"), unit="so-vhttdl", kind="portal")])
    summary = by_id(env.crawl("--all"))["so"]
    assert summary["new"] == 5, summary                 # 2 listing pages of 2 + the video
    assert "/tin-tuc/van-hoa/?page=3" not in site.paths()    # listing_depth=1
    items = {item.url: item for item in env.store().iter_items()}
    assert set(items) == {url["video"], url["d0"], url["d1"], url["d2"], url["d3"]}
    expected = ["2025-04-28T08:15:00+07:00", "2025-04-28T00:00:00+07:00",
                "2025-04-26T08:15:00+07:00", "2025-04-25T00:00:00+07:00"]
    for n, when in enumerate(expected):
        assert items[url[f"d{n}"]].published_at == datetime.fromisoformat(when)
    video = items[url["video"]]
    assert video.text == "Phóng sự về lễ hội bánh dân gian Nam Bộ tại Cần Thơ."
    assert video.meta["page_type"] == "media"
    assert video.published_at == datetime.fromisoformat("2025-04-27T19:00:00+07:00")
    health = env.source_rows()["so"]["health"]
    assert health["discovered"]["feeds"] == [] and health["discovered"]["sitemaps"] == []
    assert health["discovered"]["listings"] == [site.url("/"), site.url("/tin-tuc/van-hoa/")]
    assert site.url("/lien-he/") not in items


def test_discovery_runs_again_when_a_feed_keeps_failing(env: CrawlEnv, site: Site) -> None:
    site.add("/robots.txt", "User-agent: *\nAllow: /\n", "text/plain")
    home = "<html><head><link rel='alternate' type='application/rss+xml' href='{}'></head></html>"
    site.add("/", home.format("/rss/cu.rss"))
    first_article = "/tin/bai-dau-tien-trong-nguon-tin-cu-4001.html"
    site.add(first_article, article_page("Bài đầu", paragraphs("Bài đầu")))
    site.add("/rss/cu.rss", rss("Cũ", [{"title": "Bài đầu", "link": site.url(first_article)}]),
             RSS)
    env.settings(download_delay=0, autothrottle=False, retry_backoff_seconds=0, retries=0,
                 rediscover_after_failures=1, home_as_listing=False)
    env.sources([source("bao", site.url("/"))])
    assert by_id(env.crawl("--all"))["bao"]["new"] == 1
    del site.pages["/rss/cu.rss"]                       # the site moved its feed
    new_article = "/tin/bai-moi-trong-nguon-tin-moi-4002.html"
    site.add(new_article, article_page("Bài mới", paragraphs("Bài mới")))
    site.add("/rss/moi.rss", rss("Mới", [{"title": "Bài mới", "link": site.url(new_article)}]),
             RSS)
    site.add("/", home.format("/rss/moi.rss"))
    failed = by_id(env.crawl("--all"))["bao"]
    assert failed["status"] == "failed" and failed["new"] == 0
    recovered = by_id(env.crawl("--all"))["bao"]
    assert recovered["status"] == "ok" and recovered["new"] == 1
    health = env.source_rows()["bao"]["health"]
    assert health["discovered"]["feeds"] == [site.url("/rss/moi.rss")]
    assert health["consecutive_failures"] == 0


def test_command_line_choices(env: CrawlEnv, site: Site) -> None:
    site.add("/robots.txt", "User-agent: *\nAllow: /\n", "text/plain")
    site.add("/rss.xml", rss("Tin", []), RSS)
    ids = [f"nguon-{n}" for n in range(6)]
    env.sources([source(i, feeds=[site.url("/rss.xml")]) for i in ids])
    context = Context(config_dir=env.config, data_dir=env.data)
    halves = [{s.id for s in select_sources(context, shard=Shard.parse(f"{i}/2"))}
              for i in (0, 1)]
    assert halves[0] | halves[1] == set(ids) and not halves[0] & halves[1]
    assert [s.id for s in select_sources(context, [ids[2], ids[2]])] == [ids[2]]
    context.close()
    cli = CliRunner()
    common = ["--config", str(env.config), "--data", str(env.data), "crawl"]
    bad = cli.invoke(app, [*common, "--source", "khong-co"])
    assert bad.exit_code == 2 and "khong-co" in bad.output
    assert cli.invoke(app, [*common, "--shard", "2/2"]).exit_code == 2
    with pass_lock(env.data, None):                   # a pass is still running
        busy = cli.invoke(app, [*common, "--source", ids[0]])
    assert busy.exit_code == 1 and "another crawl pass" in busy.output
    crawled = env.crawl("--shard", "1/2")             # a real pass over one shard
    assert {row["id"] for row in crawled["sources"]} == halves[1]
    assert set(crawled["sources"][0]) >= {"id", "fetched", "new", "updated", "errors"}
    context = Context(config_dir=env.config, data_dir=env.data)
    assert {s.id for s in select_sources(context)} == halves[0]    # the rest is still due
    assert {s.id for s in select_sources(context, all_sources=True)} == set(ids)
    context.close()
