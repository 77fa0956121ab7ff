"""The API tests' data: the repository's plan and sources, and items built by hand.

Week under test: 2025-W18 (Monday 28/04 – Sunday 04/05/2025, Asia/Ho_Chi_Minh).
Every item is a :class:`dophu.models.Item` with its :class:`Tag` objects, so
that the tests do not depend on the classifier.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import yaml

from dophu.dates import LOCAL_TZ
from dophu.models import Feedback, Item, SourceState, Tag, item_id_for_url
from store import Store

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"

TOKEN_AN = "token-an-0123456789abcdef"          # from settings.yaml
TOKEN_BINH = "token-binh-fedcba9876543210"      # from DOPHU_API_TOKENS
TOKENS_ENV = f"binh:{TOKEN_BINH}"
WEEK = "2025-W18"


def _tag(label: str, score: float, *evidence: str) -> Tag:
    return Tag(id=label, score=score, evidence=list(evidence))


def _item(slug: str, source: str, unit: str, kind: str, published: str, title: str, text: str,
          *, themes: list[Tag] | None = None, anniversaries: list[Tag] | None = None,
          relevant: bool | None = None, duplicate_of: str | None = None) -> Item:
    url = f"https://example.vn/{slug}.html"
    themes, anniversaries = themes or [], anniversaries or []
    if relevant is None:
        relevant = bool(themes or anniversaries)
    return Item(id=item_id_for_url(url), url=url, source=source, unit=unit, kind=kind,
                title=title, text=text, published_at=published,
                fetched_at="2025-05-05T00:00:00+00:00", relevant=relevant, themes=themes,
                anniversaries=anniversaries, duplicate_of=duplicate_of)


DAI_HOI = _item(
    "dai-hoi-ninh-kieu", "baocantho", "bao-can-tho", "newspaper", "2025-04-29T08:15:00+07:00",
    "Đại hội Đảng bộ phường Ninh Kiều nhiệm kỳ 2025 - 2030 thành công tốt đẹp",
    "Sáng 29/4, Đại hội đại biểu Đảng bộ phường Ninh Kiều lần thứ I, nhiệm kỳ 2025 - 2030 "
    "đã diễn ra.\nĐại hội bầu Ban Chấp hành và thảo luận các văn kiện trình Đại hội XIV.",
    themes=[_tag("dai-hoi-dang", 0.95, "Đại hội đại biểu Đảng bộ", "nhiệm kỳ 2025 - 2030")])

GIAI_PHONG = _item(
    "50-nam-giai-phong", "canthotv", "dai-ptth-can-tho", "broadcaster",
    "2025-04-30T07:00:00+07:00",
    "Kỷ niệm 50 năm Ngày giải phóng miền Nam, thống nhất đất nước",
    "Cần Thơ tổ chức lễ kỷ niệm 50 năm Ngày giải phóng miền Nam, thống nhất đất nước với khí "
    "thế mới, niềm tin mới.",
    themes=[_tag("niem-tin-moi", 0.8, "khí thế mới")],
    anniversaries=[_tag("giai-phong-mien-nam-50", 0.97, "50 năm Ngày giải phóng miền Nam")])

GIAI_PHONG_COPY = _item(
    "mttq-dang-lai-50-nam", "mttq-cantho", "mttq-thanh-pho", "organization",
    "2025-04-30T15:00:00+07:00", GIAI_PHONG.title, GIAI_PHONG.text,
    themes=list(GIAI_PHONG.themes), anniversaries=list(GIAI_PHONG.anniversaries),
    duplicate_of=GIAI_PHONG.id)

HOSTILE = _item(
    "tin-doc-hai", "cong-cantho", "ubnd-thanh-pho", "portal", "2025-05-01T09:00:00+07:00",
    "<script>window.__pwned = 1</script> Thông báo lịch cắt điện",
    "<img src=x onerror=\"window.__pwned = 2\"> Lịch cắt điện khu vực Cái Răng ngày 2/5.",
    relevant=False)

KY_NGUYEN = _item(
    "ky-nguyen-vuon-minh", "baocantho", "bao-can-tho", "newspaper",
    "2025-04-22T10:00:00+07:00", "Vững bước vào kỷ nguyên vươn mình của dân tộc",
    "Bài viết về kỷ nguyên vươn mình của dân tộc và các mốc 2030, 2045.",
    themes=[_tag("ky-nguyen-moi", 0.9, "kỷ nguyên vươn mình")])

ITEMS = [DAI_HOI, GIAI_PHONG, GIAI_PHONG_COPY, HOSTILE, KY_NGUYEN]


def fill(store: Store) -> None:
    store.upsert(ITEMS)
    ok = datetime(2025, 5, 4, 23, 0, tzinfo=LOCAL_TZ)
    store.put_source_state(SourceState(source_id="baocantho", last_success=ok, last_attempt=ok,
                                       last_run={"new": 2, "seen": 10}))
    store.put_source_state(SourceState(source_id="cong-cantho", last_success=ok,
                                       last_attempt=ok))
    store.put_source_state(SourceState(source_id="mttq-cantho", last_success=ok,
                                       last_attempt=ok))
    store.put_source_state(SourceState(
        source_id="canthotv", last_attempt=ok, consecutive_failures=3,
        last_error="HTTP 503 <b>Service Unavailable</b> at https://canthotv.vn/"))
    store.add_feedback(Feedback(item_id=DAI_HOI.id, label_kind="theme", label="dai-hoi-dang",
                                action="confirm", user="an", at="2025-05-02T09:00:00+07:00"))


def write_config(target: Path, *, tokens: dict[str, str] | None = None,
                 read_requires_token: bool = False, cors_origins: list[str] | None = None,
                 max_page_size: int = 100) -> Path:
    """The repository's plan and sources, with API settings for the test."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(REPO / "config", target)
    settings = yaml.safe_load((target / "settings.yaml").read_text(encoding="utf-8")) or {}
    settings["api"] = {"tokens": {"an": TOKEN_AN} if tokens is None else tokens,
                       "read_requires_token": read_requires_token,
                       "cors_origins": cors_origins or [], "max_page_size": max_page_size}
    (target / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True),
                                          encoding="utf-8")
    sources = yaml.safe_load((target / "sources.yaml").read_text(encoding="utf-8"))
    sources["sources"] += EXTRA_SOURCES
    (target / "sources.yaml").write_text(yaml.safe_dump(sources, allow_unicode=True),
                                         encoding="utf-8")
    return target


EXTRA_SOURCES = [
    {"id": "hoi-phu-nu-tam-dung", "name": "Trang Hội Phụ nữ (tạm dừng)", "unit": "hoi-lhpn",
     "kind": "organization", "home": "https://example.vn/hoi-phu-nu/", "enabled": False},
    {"id": "fb-phuong-ninh-kieu", "name": "Trang Facebook phường Ninh Kiều",
     "unit": "phuong-ninh-kieu", "kind": "social"},
]
