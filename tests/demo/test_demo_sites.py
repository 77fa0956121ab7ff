"""The bundled demo sites serve what the manifest promises, quirks included."""

from __future__ import annotations

import json
import re
import time
import unicodedata
import urllib.error
import urllib.request
import urllib.robotparser
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import date, datetime
from html import unescape
from pathlib import Path

import feedparser
import pytest
import yaml

from demo import manifest as m
from demo.server import DemoSites, main

SLOW = 0.4
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
THEMES = {
    "niem-tin-moi", "co-do-40-nam", "ky-nguyen-moi", "hoi-nghi-tw-10", "dai-hoi-dang",
    "bao-ve-nen-tang", "phat-trien-kt-xh", "doi-ngoai", "thi-dua-khen-thuong",
    "dai-doan-ket-an-sinh",
}
ANNIVERSARIES = {
    "thanh-lap-dang-95": date(2025, 2, 3), "giai-phong-mien-nam-50": date(2025, 4, 30),
    "sinh-nhat-bac-135": date(2025, 5, 19), "cach-mang-thang-tam-80": date(2025, 8, 19),
    "quoc-khanh-80": date(2025, 9, 2), "tong-tuyen-cu-80": date(2026, 1, 6),
}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def fetch(url: str, headers: dict | None = None, timeout: float = 10):
    """(status, headers, body) without following redirects or raising on errors."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with _opener.open(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


@pytest.fixture(scope="module")
def demo():
    with DemoSites(slow_seconds=SLOW) as d:
        yield d


def decoded(a: m.Article, body: bytes) -> str:
    text = body.decode("cp1258" if a.encoding == "windows-1258" else "utf-8")
    return unicodedata.normalize("NFC", text)


def find(site: str, quirk: str) -> m.Article:
    return next(a for a in m.articles(site) if a.quirk == quirk)


WARD = "demo-phuongninhkieu"


# --- the manifest ---------------------------------------------------------------------------


def test_manifest_size_and_spread():
    arts = m.articles()
    assert len(arts) >= 90
    assert {a.site for a in arts} == set(m.SITE_IDS)
    assert sum(500 <= a.words <= 800 for a in arts) >= 25
    for a in arts:
        lo = 60 if a.kind == "video" else 120
        assert lo <= a.words <= 800, (a.key, a.words)
        assert date(2025, 1, 1) <= a.published.date() <= date(2026, 1, 31), a.key
        assert a.published.utcoffset().total_seconds() == 7 * 3600
    months = {a.published.strftime("%Y-%m") for a in arts}
    assert {f"2025-{i:02d}" for i in range(1, 13)} <= months
    assert any(a.published.year == 2026 and "tong-tuyen-cu-80" in a.anniversaries for a in arts)
    relevant = sum(a.relevant for a in arts)
    assert 0.35 <= relevant / len(arts) <= 0.7
    assert len({a.path for a in arts}) == len(arts)
    assert len({a.key for a in arts}) == len(arts)


def test_manifest_labels_follow_taxonomy():
    arts = m.articles()
    themes = Counter(t for a in arts for t in a.themes)
    anns = Counter(x for a in arts for x in a.anniversaries)
    assert set(themes) <= THEMES and set(anns) <= set(ANNIVERSARIES)
    assert set(themes) == THEMES  # every theme has examples
    assert set(anns) == set(ANNIVERSARIES)
    # anniversary items mostly sit near their date (a yearly plan may announce them all)
    gaps = [abs((a.published.date() - ANNIVERSARIES[x]).days) for a in arts
            for x in a.anniversaries]
    assert sum(g <= 45 for g in gaps) >= 0.85 * len(gaps)
    traps = ["giải phóng mặt bằng", "đổi mới sáng tạo", "Đại hội Thể dục thể thao",
             "kỷ niệm 20 năm thành lập trường"]
    for trap in traps:
        hits = [a for a in arts if trap.lower() in a.title.lower() and not a.relevant]
        assert hits, trap


def test_manifest_weeks_and_gap():
    weeks = m.weeks_with_all_sites()
    nums = sorted(int(w[-2:]) for w in weeks if w.startswith("2025"))
    assert any(nums[i + 2] - nums[i] == 2 for i in range(len(nums) - 2)), weeks
    # in some busy week a site publishes but covers none of the three major themes
    assert any(
        any(len(missing) == 3 for missing in m.gaps(w).values()) for w in weeks
    )


def test_manifest_dicts_are_json():
    data = json.loads(json.dumps(m.manifest(), ensure_ascii=False))
    assert len(data) == len(m.articles())
    quirks = {d["flags"]["quirk"] for d in data if d["flags"]["is_quirk"]}
    assert quirks == set(m.QUIRKS)
    dup = next(d for d in data if d["flags"]["duplicate_of"])
    assert dup["flags"]["duplicate_of"]["site"] == "demo-baocantho"


def test_content_is_nfc():
    for f in m.CONTENT_DIR.glob("*.jsonl"):
        text = f.read_text(encoding="utf-8")
        assert unicodedata.is_normalized("NFC", text), f


# --- pages ----------------------------------------------------------------------------------


def test_every_article_is_served(demo):
    for a in m.articles():
        status, headers, body = fetch(demo.url(a.site, a.path))
        assert status == a.http_status, (a.key, status)
        if status != 200:
            continue
        assert "text/html" in headers["Content-Type"]
        assert "charset=" in headers["Content-Type"]
        assert headers["ETag"] and headers["Last-Modified"]
        assert a.title in unescape(decoded(a, body)), a.key


def test_newspaper_article_metadata(demo):
    arts = m.articles("demo-baocantho")
    assert all(a.author for a in arts)
    assert not any(a.author for a in m.articles() if a.site != "demo-baocantho")
    a = next(x for x in arts if x.modified)
    _, _, body = fetch(demo.url(a.site, a.path))
    html = body.decode()
    assert f'<link rel="canonical" href="{demo.url(a.site, a.path)}">' in html
    assert f'content="{a.published.isoformat()}"' in html
    assert f'property="article:modified_time" content="{a.modified.isoformat()}"' in html
    assert 'property="og:title"' in html
    assert f'<p class="author">{a.author}</p>' in html
    assert "breadcrumb" in html and 'class="tags"' in html


def test_not_found(demo):
    for sid in m.SITE_IDS:
        status, headers, body = fetch(demo.url(sid, "/khong-co-trang-nay.html"))
        assert status == 404
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert b"404" in body


def test_department_has_no_feed_or_sitemap_and_text_dates(demo):
    sid = "demo-sovhttdl"
    for path in ("/rss.xml", "/feed", "/sitemap.xml", "/feed.atom"):
        assert fetch(demo.url(sid, path))[0] == 404
    status, _, body = fetch(demo.url(sid, "/robots.txt"))
    assert status == 200 and b"Sitemap" not in body
    home = fetch(demo.url(sid, "/"))[2].decode()
    sections = set(re.findall(r'href="(/tin-tuc/[a-z-]+/)"', home))
    assert len(sections) >= 4
    styles = set()
    for a in m.articles(sid):
        html = fetch(demo.url(sid, a.path))[2].decode()
        assert a.date_text in html
        assert "published_time" not in html and "<time" not in html
        assert "datePublished" not in html
        styles.add(re.sub(r"\d", "9", a.date_text))
    assert len(styles) >= 4


def test_department_listing_pagination(demo):
    sid = "demo-sovhttdl"
    seen = []
    for page in range(1, 5):
        url = demo.url(sid, "/tin-tuc/tin-hoat-dong/" + (f"?page={page}" if page > 1 else ""))
        status, _, body = fetch(url)
        assert status == 200
        html = body.decode()
        links = re.findall(r'<li><a href="(/tin-tuc/[a-z-]+/[^"]+\.html)"', html)
        assert len(links) == (8 if page < 4 else len(m.articles(sid)) - 24)
        seen += links
        assert ("Trang sau" in html) == (page < 4)
        assert '?page=4"' in html or page == 4
    assert sorted(seen) == sorted(a.path for a in m.articles(sid))
    assert fetch(demo.url(sid, "/tin-tuc/tin-hoat-dong/?page=5"))[0] == 404


def test_broadcaster_video_pages(demo):
    videos = [a for a in m.articles("demo-canthotv") if a.kind == "video"]
    assert len(videos) >= 10
    for a in videos[:3]:
        html = fetch(demo.url(a.site, a.path))[2].decode()
        assert "<video" in html and a.published.strftime("%d/%m/%Y") in html
        assert 60 <= a.words <= 200


# --- feeds and sitemaps ---------------------------------------------------------------------


def parse_feed(demo, site, path):
    status, headers, body = fetch(demo.url(site, path))
    assert status == 200, path
    assert "charset=utf-8" in headers["Content-Type"]
    assert headers["ETag"] and headers["Last-Modified"]
    return feedparser.parse(body)


def test_newspaper_feeds(demo):
    sid = "demo-baocantho"
    home = fetch(demo.url(sid, "/"))[2].decode()
    alt = r'<link rel="alternate" type="application/rss\+xml"[^>]*href="([^"]+)"'
    hrefs = re.findall(alt, home)
    assert len(hrefs) == 6
    links = set()
    for href in hrefs:
        feed = parse_feed(demo, sid, href)
        assert not feed.bozo, href
        assert feed.entries
        assert feed.version == ("rss10" if href.endswith(".rdf") else "rss20")
        links |= {e.link for e in feed.entries}
    tracked = {u for u in links if "utm_source=rss" in u}
    assert tracked and len(tracked) < len(links)
    url = next(iter(tracked))
    html = fetch(url)[2].decode()
    clean = url.split("?")[0]
    assert f'<link rel="canonical" href="{clean}">' in html


def test_broadcaster_feeds(demo):
    sid = "demo-canthotv"
    home = fetch(demo.url(sid, "/"))[2].decode()
    assert 'type="application/atom+xml"' in home and "/feed.atom" in home
    atom = parse_feed(demo, sid, "/feed.atom")
    assert atom.version == "atom10" and not atom.bozo
    assert len(atom.entries) == len(m.articles(sid))
    yt = parse_feed(demo, sid, "/youtube/feeds/videos.xml?channel_id=x")
    assert yt.version == "atom10" and not yt.bozo
    videos = [a for a in m.articles(sid) if a.kind == "video"]
    assert len(yt.entries) == min(15, len(videos))
    for e in yt.entries:
        assert re.fullmatch(r"[A-Za-z0-9_-]{11}", e.yt_videoid)
        assert e.summary and e.link.startswith(demo.urls[sid])
    raw = fetch(demo.url(sid, "/youtube/feeds/videos.xml"))[2].decode()
    assert "xmlns:yt=" in raw and "<media:group>" in raw and "<media:description>" in raw


def test_ward_feed_is_malformed_but_readable(demo):
    feed = parse_feed(demo, WARD, "/rss.xml")
    assert feed.bozo
    public = [a for a in m.articles(WARD) if a.quirk != "disallowed"]
    assert len(feed.entries) == len(public)
    assert any("&" in e.title for e in feed.entries)
    with pytest.raises(ET.ParseError):
        ET.fromstring(fetch(demo.url(WARD, "/rss.xml"))[2])


def test_sitemaps(demo):
    sid = "demo-baocantho"
    robots = fetch(demo.url(sid, "/robots.txt"))[2].decode()
    maps = re.findall(r"^Sitemap: (\S+)$", robots, flags=re.M)
    assert demo.url(sid, "/sitemap.xml") in maps and demo.url(sid, "/sitemap-news.xml") in maps
    index = ET.fromstring(fetch(demo.url(sid, "/sitemap.xml"))[2])
    assert index.tag == SM + "sitemapindex"
    locs = []
    for sm in index.findall(SM + "sitemap"):
        loc = sm.find(SM + "loc").text
        assert re.search(r"/sitemaps/articles-20(25|26)-\d\d\.xml$", loc)
        datetime.fromisoformat(sm.find(SM + "lastmod").text)
        status, headers, body = fetch(loc)
        assert status == 200 and headers["Content-Type"].startswith("application/xml")
        urlset = ET.fromstring(body)
        locs += [u.find(SM + "loc").text for u in urlset.findall(SM + "url")]
    assert sorted(locs) == sorted(demo.url(sid, a.path) for a in m.articles(sid))
    news = ET.fromstring(fetch(demo.url(sid, "/sitemap-news.xml"))[2])
    ns = "{http://www.google.com/schemas/sitemap-news/0.9}"
    assert len(news.findall(f"{SM}url/{ns}news")) == 10


# --- HTTP behaviour -------------------------------------------------------------------------


def test_conditional_get(demo):
    a = m.articles("demo-baocantho")[0]
    targets = [
        ("demo-baocantho", a.path),
        ("demo-baocantho", "/rss/thoi-su.rss"),
        ("demo-baocantho", "/sitemap.xml"),
        ("demo-canthotv", "/feed.atom"),
        ("demo-sovhttdl", m.articles("demo-sovhttdl")[0].path),
        (WARD, "/rss.xml"),
    ]
    before = demo.stats
    for sid, path in targets:
        url = demo.url(sid, path)
        status, headers, _ = fetch(url)
        assert status == 200
        etag, lm = headers["ETag"], headers["Last-Modified"]
        status, h2, body = fetch(url, {"If-None-Match": etag})
        assert status == 304 and body == b"" and h2["ETag"] == etag
        assert fetch(url, {"If-Modified-Since": lm})[0] == 304
        assert fetch(url, {"If-None-Match": '"other"'})[0] == 200
        assert fetch(url, {"If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"})[0] == 200
    after = demo.stats
    for sid in {s for s, _ in targets}:
        n = sum(1 for s, _ in targets if s == sid)
        assert after[sid]["not_modified"] - before[sid]["not_modified"] == 2 * n
        assert after[sid]["status"][304] - before[sid]["status"].get(304, 0) == 2 * n


def test_head_request(demo):
    req = urllib.request.Request(demo.url("demo-baocantho", "/"), method="HEAD")
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200 and r.read() == b""
        assert int(r.headers["Content-Length"]) > 1000


# --- the ward portal's quirks ---------------------------------------------------------------


def test_mislabelled_windows_1258(demo):
    arts = [a for a in m.articles(WARD) if a.quirk == "mislabelled"]
    assert len(arts) >= 2
    for a in arts:
        status, headers, body = fetch(demo.url(WARD, a.path))
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert b'charset=utf-8"' in body
        with pytest.raises(UnicodeDecodeError):
            body.decode("utf-8")
        text = unicodedata.normalize("NFC", body.decode("cp1258"))
        assert a.title in text and a.lead in text


def test_declared_windows_1258(demo):
    a = find(WARD, "cp1258")
    _, headers, body = fetch(demo.url(WARD, a.path))
    assert headers["Content-Type"] == "text/html; charset=windows-1258"
    assert b"charset=windows-1258" in body
    assert a.lead in unicodedata.normalize("NFC", body.decode("cp1258"))


def test_nfd_page(demo):
    a = find(WARD, "nfd")
    _, headers, body = fetch(demo.url(WARD, a.path))
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    text = body.decode("utf-8")
    assert unicodedata.is_normalized("NFD", text)
    assert not unicodedata.is_normalized("NFC", text)
    assert a.title not in text
    assert unicodedata.normalize("NFD", a.title) in text
    assert a.title in unicodedata.normalize("NFC", text)


def test_robots_disallow_and_counting():
    a = find(WARD, "disallowed")
    assert a.path.startswith("/noi-bo/")
    with DemoSites(slow_seconds=SLOW) as d:
        robots = fetch(d.url(WARD, "/robots.txt"))[2].decode()
        assert "Disallow: /noi-bo/" in robots
        rp = urllib.robotparser.RobotFileParser()
        rp.parse(robots.splitlines())
        assert not rp.can_fetch("dophu", d.url(WARD, a.path))
        assert rp.can_fetch("dophu", d.url(WARD, "/"))
        home = fetch(d.url(WARD, "/"))[2].decode()
        assert f'href="{a.path}"' in home
        assert d.requests_to(WARD, "/noi-bo/") == 0
        assert fetch(d.url(WARD, a.path))[0] == 200  # served to whoever ignores robots.txt
        assert d.requests_to(WARD, "/noi-bo/") == 1
        assert d.stats[WARD]["paths"][a.path] == 1
        d.reset_stats()
        assert d.stats[WARD]["requests"] == 0


def test_error_500(demo):
    a = find(WARD, "error500")
    status, headers, body = fetch(demo.url(WARD, a.path))
    assert status == 500 and "text/html" in headers["Content-Type"]
    listing = fetch(demo.url(WARD, "/tin-tuc/?page=2"))[2].decode()
    assert f'href="{a.path}"' in listing
    assert demo.url(WARD, a.path) in fetch(demo.url(WARD, "/rss.xml"))[2].decode()


def test_redirect(demo):
    a = find(WARD, "redirect")
    assert a.old_path
    status, headers, _ = fetch(demo.url(WARD, a.old_path))
    assert status == 301
    assert headers["Location"] == demo.url(WARD, a.path)
    with urllib.request.urlopen(demo.url(WARD, a.old_path), timeout=10) as r:
        assert r.status == 200 and r.url == demo.url(WARD, a.path)
    home = fetch(demo.url(WARD, "/"))[2].decode()
    assert f'href="{a.old_path}"' in home and f'href="{a.path}"' not in home


def test_slow(demo):
    a = find(WARD, "slow")
    t0 = time.monotonic()
    status = fetch(demo.url(WARD, a.path))[0]
    assert status == 200 and time.monotonic() - t0 >= SLOW


def test_near_duplicate(demo):
    a = find(WARD, "duplicate")
    src = m.article_by_key(a.duplicate_of_key)
    assert src.site == "demo-baocantho" and a.title == src.title
    assert a.body[:3] == src.body[:3]
    assert a.body[-1] == "Nguồn: Báo Cần Thơ"
    assert a.published > src.published
    html = fetch(demo.url(WARD, a.path))[2].decode()
    assert "Nguồn: Báo Cần Thơ" in html and src.body[0] in html


# --- sources.yaml and the command line ------------------------------------------------------


def test_write_sources_yaml(demo, tmp_path):
    path = demo.write_sources_yaml(tmp_path / "sources.yaml")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    srcs = {s["id"]: s for s in data["sources"]}
    assert set(srcs) == set(m.SITE_IDS)
    for sid, s in srcs.items():
        assert s["unit"] == m.SITES[sid].unit and s["kind"] == m.SITES[sid].kind
        assert s["home"] == demo.urls[sid] and s["enabled"] is True
        assert re.fullmatch(r"[a-z0-9-]+", s["id"])
    for sid in ("demo-baocantho", "demo-phuongninhkieu", "demo-sovhttdl"):
        assert srcs[sid]["feeds"] == [] and srcs[sid]["sitemaps"] == []
        assert srcs[sid]["listings"] == []
    assert all(f.startswith(demo.urls["demo-canthotv"]) for f in srcs["demo-canthotv"]["feeds"])


def test_fixed_ports_and_cli(tmp_path, capsys):
    with DemoSites(ports=[0, 0, 0, 0]) as d:
        ports = list(d.ports.values())
        assert len(set(ports)) == 4
    out = tmp_path / "s.yaml"
    assert main(["--base-port", "0", "--sources-out", str(out)], wait=lambda: None) == 0
    printed = capsys.readouterr().out
    assert all(sid in printed for sid in m.SITE_IDS)
    assert len(yaml.safe_load(Path(out).read_text(encoding="utf-8"))["sources"]) == 4
