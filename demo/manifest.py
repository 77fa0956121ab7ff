"""Ground truth for the demo sites, so tests and `dophu demo` can score a crawl.

The articles live in `content/*.jsonl` (one record per article); this module
loads them and derives what a correct crawler should end up with: canonical
paths, dates, expected labels and the deliberate quirks.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

CONTENT_DIR = Path(__file__).parent / "content"

MAJOR_THEMES = ("niem-tin-moi", "co-do-40-nam", "ky-nguyen-moi")


@dataclass(frozen=True)
class SiteInfo:
    id: str
    name: str
    unit: str
    kind: str
    file: str


SITES: dict[str, SiteInfo] = {
    s.id: s
    for s in (
        SiteInfo("demo-baocantho", "Báo Cần Thơ (demo)", "bao-can-tho", "newspaper",
                 "baocantho.jsonl"),
        SiteInfo("demo-canthotv", "Đài PT-TH Cần Thơ (demo)", "dai-ptth-can-tho", "broadcaster",
                 "canthotv.jsonl"),
        SiteInfo("demo-sovhttdl", "Sở Văn hóa, Thể thao và Du lịch (demo)", "so-vhttdl",
                 "portal", "sovhttdl.jsonl"),
        SiteInfo("demo-phuongninhkieu", "Cổng thông tin phường Ninh Kiều (demo)",
                 "phuong-ninh-kieu", "portal", "phuongninhkieu.jsonl"),
    )
}
SITE_IDS = tuple(SITES)

# quirk -> what it means for a crawler (ward site only)
QUIRKS = {
    "error500": "the article URL always answers 500",
    "slow": "the article URL answers after `slow_seconds`",
    "redirect": "linked by an old URL that 301-redirects to the article",
    "disallowed": "under /noi-bo/, disallowed by robots.txt: must not be fetched",
    "mislabelled": "bytes are windows-1258 but headers and meta say utf-8",
    "cp1258": "bytes are windows-1258 and declared so",
    "nfd": "text is in decomposed Unicode (NFD)",
    "duplicate": "republishes a demo-baocantho story near-verbatim",
}

_WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")


def weekday_vi(d: date) -> str:
    return _WEEKDAYS[d.weekday()]


@dataclass(frozen=True)
class Article:
    key: str
    site: str
    path: str
    kind: str  # article | video
    section: str
    title: str
    lead: str
    body: tuple[str, ...]
    published: datetime
    modified: datetime | None
    author: str | None
    tags: tuple[str, ...]
    themes: tuple[str, ...]
    anniversaries: tuple[str, ...]
    quirk: str | None = None
    duplicate_of_key: str | None = None
    old_path: str | None = None
    date_text: str | None = field(default=None, compare=False)

    @property
    def canonical_path(self) -> str:
        return self.path

    @property
    def updated(self) -> datetime:
        return self.modified or self.published

    @property
    def text(self) -> str:
        return "\n\n".join((self.lead, *self.body))

    @property
    def words(self) -> int:
        return len(self.text.split())

    @property
    def relevant(self) -> bool:
        return bool(self.themes or self.anniversaries)

    @property
    def http_status(self) -> int:
        return 500 if self.quirk == "error500" else 200

    @property
    def encoding(self) -> str:
        return "windows-1258" if self.quirk in ("mislabelled", "cp1258") else "utf-8"

    @property
    def duplicate_of(self) -> dict | None:
        if not self.duplicate_of_key:
            return None
        src = article_by_key(self.duplicate_of_key)
        return {"key": src.key, "site": src.site, "path": src.path}

    @property
    def iso_week(self) -> str:
        y, w, _ = self.published.isocalendar()
        return f"{y}-W{w:02d}"

    def flags(self) -> dict:
        q = self.quirk
        return {
            "is_quirk": q is not None,
            "quirk": q,
            "http_status": self.http_status,
            "slow": q == "slow",
            "redirect_from": self.old_path,
            "disallowed": q == "disallowed",
            "encoding": self.encoding,
            "declared_charset": "utf-8" if q != "cp1258" else "windows-1258",
            "nfd": q == "nfd",
            "duplicate_of": self.duplicate_of,
        }

    def to_dict(self) -> dict:
        return {
            "key": self.key,
            "site": self.site,
            "unit": SITES[self.site].unit,
            "path": self.path,
            "canonical_path": self.canonical_path,
            "kind": self.kind,
            "section": self.section,
            "title": self.title,
            "published": self.published.isoformat(),
            "modified": self.modified.isoformat() if self.modified else None,
            "date_text": self.date_text,
            "words": self.words,
            "expected": {
                "relevant": self.relevant,
                "themes": list(self.themes),
                "anniversaries": list(self.anniversaries),
            },
            "flags": self.flags(),
        }


def _so_date_text(i: int, dt: datetime) -> str:
    """The department portal shows dates only as text, in a rotating format."""
    style = i % 4
    if style == 0:
        return f"{weekday_vi(dt)}, {dt:%d/%m/%Y - %H:%M}"
    if style == 1:
        return f"{dt.day}-{dt.month}-{dt.year}"
    if style == 2:
        return f"{dt:%H:%M} ngày {dt.day}/{dt.month}/{dt.year}"
    return f"Ngày đăng: {dt:%d/%m/%Y}"


@lru_cache(maxsize=1)
def load_articles() -> tuple[Article, ...]:
    out: list[Article] = []
    for site in SITES.values():
        lines = (CONTENT_DIR / site.file).read_text(encoding="utf-8").splitlines()
        recs = [json.loads(ln) for ln in lines if ln.strip()]
        recs.sort(key=lambda r: r["published"])
        for i, r in enumerate(recs):
            assert r["site"] == site.id, r["key"]
            for k in ("title", "lead"):
                assert unicodedata.is_normalized("NFC", r[k]), r["key"]
            published = datetime.fromisoformat(r["published"])
            out.append(
                Article(
                    key=r["key"],
                    site=r["site"],
                    path=r["path"],
                    kind=r.get("kind", "article"),
                    section=r.get("section", ""),
                    title=r["title"],
                    lead=r["lead"],
                    body=tuple(r["body"]),
                    published=published,
                    modified=datetime.fromisoformat(r["modified"]) if r.get("modified") else None,
                    author=r.get("author"),
                    tags=tuple(r.get("tags", ())),
                    themes=tuple(r["expected"]["themes"]),
                    anniversaries=tuple(r["expected"]["anniversaries"]),
                    quirk=r.get("quirk"),
                    duplicate_of_key=r.get("duplicate_of"),
                    old_path=r.get("old_path"),
                    date_text=_so_date_text(i, published) if site.id == "demo-sovhttdl" else None,
                )
            )
    return tuple(out)


def articles(site: str | None = None) -> list[Article]:
    return [a for a in load_articles() if site is None or a.site == site]


def article_by_key(key: str) -> Article:
    for a in load_articles():
        if a.key == key:
            return a
    raise KeyError(key)


def manifest() -> list[dict]:
    """Every article as a JSON-ready dict (the ground truth)."""
    return [a.to_dict() for a in load_articles()]


def weeks_with_all_sites() -> list[str]:
    """ISO weeks in which each of the four sites published something."""
    weeks: dict[str, set[str]] = {}
    for a in load_articles():
        weeks.setdefault(a.iso_week, set()).add(a.site)
    return sorted(w for w, s in weeks.items() if len(s) == len(SITES))


def gaps(week: str) -> dict[str, list[str]]:
    """Per site that published in `week`, the major themes it published nothing on."""
    out: dict[str, list[str]] = {}
    for site in SITES:
        items = [a for a in articles(site) if a.iso_week == week]
        if items:
            covered = {t for a in items for t in a.themes}
            out[site] = [t for t in MAJOR_THEMES if t not in covered]
    return out


if __name__ == "__main__":
    print(json.dumps(manifest(), ensure_ascii=False, indent=1))
