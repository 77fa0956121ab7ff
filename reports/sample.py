"""A realistic tagged store for sample reports, and the command that writes them.

    .venv/bin/python -m reports.sample --out docs/samples

builds a fixture store in a temporary directory (nine weeks of items from the
configured sources, tagged with the plan's themes and anniversaries, with one
failing source, one silent unit, duplicates and people's corrections), then
writes the weekly report of 2025-W18 (the week of 30/4) in every format, and a
monthly range report. The data are invented (seeded, so the output is stable);
only the plan and the sources come from ``config/``.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

from dophu.config import Plan, Source, find_plan_file, load_plan, load_sources
from dophu.dates import LOCAL_TZ
from dophu.models import Feedback, Item, SourceState, Tag, item_id_for_url
from reports.build import build_range, build_weekly
from reports.model import Report
from reports.render import FORMATS, filename, render
from store.base import Store

SAMPLE_WEEK = "2025-W18"
SAMPLE_END = date(2025, 5, 4)
SAMPLE_WEEKS = 9
GENERATED_AT = datetime(2025, 5, 5, 7, 0, tzinfo=LOCAL_TZ)

PLACES = ["Ninh Kiều", "Bình Thủy", "Cái Răng", "Ô Môn", "Thốt Nốt", "Phong Điền", "Cờ Đỏ",
          "Thới Lai", "Vĩnh Thạnh", "An Bình", "Cái Khế"]

THEME_TITLES: dict[str, list[str]] = {
    "niem-tin-moi": [
        "{place}: Khí thế mới, quyết tâm mới trong thực hiện nhiệm vụ năm 2025",
        "Tăng tốc, bứt phá hoàn thành các chỉ tiêu năm 2025 ở {place}",
        "Niềm tin mới từ những công trình về đích sớm tại {place}",
        "Quyết tâm, quyết làm: cán bộ {place} bám cơ sở",
    ],
    "co-do-40-nam": [
        "40 năm đổi mới: dấu ấn phát triển của Cần Thơ",
        "Cơ đồ, tiềm lực, vị thế đất nước sau 40 năm đổi mới nhìn từ {place}",
        "Kinh tế thị trường định hướng xã hội chủ nghĩa và bài học từ {place}",
    ],
    "ky-nguyen-moi": [
        "Cần Thơ sẵn sàng bước vào kỷ nguyên vươn mình của dân tộc",
        "Thanh niên {place} với khát vọng kỷ nguyên mới",
        "Tầm nhìn đến năm 2045: {place} chuẩn bị nguồn nhân lực",
    ],
    "hoi-nghi-tw-10": [
        "Quán triệt Hội nghị Trung ương 10 khóa XIII tại {place}",
        "Công tác nhân sự là then chốt của then chốt",
    ],
    "dai-hoi-dang": [
        "Đại hội Đảng bộ {place} nhiệm kỳ 2025 - 2030 thành công tốt đẹp",
        "Góp ý dự thảo văn kiện Đại hội XIV của Đảng ở {place}",
        "Đại hội chi bộ điểm nhiệm kỳ 2025 - 2030 tại {place}",
    ],
    "bao-ve-nen-tang": [
        "Bảo vệ nền tảng tư tưởng của Đảng: nhận diện luận điệu xuyên tạc",
        "Đấu tranh phản bác các quan điểm sai trái, thù địch trên mạng xã hội",
    ],
    "phat-trien-kt-xh": [
        "{place} đẩy mạnh giải ngân vốn đầu tư công",
        "Tăng trưởng GRDP quý I của Cần Thơ đạt khá",
        "Công trình trọng điểm ở {place} vượt tiến độ",
    ],
    "doi-ngoai": [
        "Cần Thơ đón đoàn công tác của đối tác chiến lược toàn diện",
        "Kiều bào về thăm quê hương {place}",
    ],
    "thi-dua-khen-thuong": [
        "Tuyên dương điển hình tiên tiến trong phong trào thi đua yêu nước ở {place}",
        "Lập thành tích chào mừng các ngày lễ lớn tại {place}",
    ],
    "dai-doan-ket-an-sinh": [
        "Xóa nhà tạm, nhà dột nát cho hộ nghèo ở {place}",
        "Trao nhà đại đoàn kết tại {place}",
        "Lá lành đùm lá rách: hỗ trợ hộ cận nghèo {place}",
    ],
}
ANNIVERSARY_TITLES: dict[str, list[str]] = {
    "giai-phong-mien-nam-50": [
        "Kỷ niệm 50 năm Ngày giải phóng miền Nam, thống nhất đất nước tại {place}",
        "Triển lãm ảnh Đại thắng mùa Xuân 1975 ở {place}",
        "Cựu chiến binh {place} kể chuyện Chiến dịch Hồ Chí Minh",
    ],
    "sinh-nhat-bac-135": [
        "Hội thi kể chuyện về Bác nhân 135 năm Ngày sinh Chủ tịch Hồ Chí Minh ở {place}",
        "Học tập và làm theo Bác: gương sáng ở {place}",
    ],
}
OTHER_TITLES = [
    "Giá lúa hôm nay tại {place} tăng nhẹ", "Thời tiết Cần Thơ: mưa rào cuối ngày",
    "Tai nạn giao thông trên Quốc lộ 91 đoạn qua {place}", "Kết quả xổ số miền Tây hôm nay",
    "Giải bóng đá phong trào {place} khởi tranh", "Chợ nổi Cái Răng đón khách du lịch",
    "Sửa chữa cầu ở {place}, người dân đi đường vòng", "Thông báo lịch cắt điện tại {place}",
]

# Items a source publishes per day, and the share of them in the plan's scope.
RATES = {"newspaper": (9, 0.45), "broadcaster": (6, 0.4), "portal": (2, 0.55),
         "organization": (1, 0.7), "social": (1, 0.6)}
REFERENCE_RATE = (5, 0.2)
MAJOR_WEIGHT = {"niem-tin-moi": 4, "co-do-40-nam": 2, "ky-nguyen-moi": 3}


def sample_sources(sources: list[Source]) -> list[Source]:
    """The configured sources, plus the exported social pages of two units (import only)."""
    extra = [
        Source(id="fb-thanh-doan", name="Trang Facebook Thành Đoàn Cần Thơ",
               unit="doan-thanh-nien", kind="social"),
        Source(id="fb-phuong-ninh-kieu", name="Trang Facebook Đảng ủy phường Ninh Kiều",
               unit="phuong-ninh-kieu", kind="social"),
    ]
    known = {s.id for s in sources}
    return list(sources) + [s for s in extra if s.id not in known]


def _anniversary_weight(plan: Plan, anniversary_id: str, day: date) -> float:
    anniversary = plan.anniversary(anniversary_id)
    if anniversary is None or not anniversary.in_window(day):
        return 0.0
    distance = abs((anniversary.date - day).days)
    return max(0.05, 0.6 - distance * 0.02)


def _themes_for(rng: random.Random, plan: Plan, source: Source) -> list[Tag]:
    ids = [t.id for t in plan.themes]
    weights = [MAJOR_WEIGHT.get(i, 1.5) for i in ids]
    if source.id == "sgddt-cantho":     # the education portal never covers the major themes
        weights = [0 if i in MAJOR_WEIGHT else w for i, w in zip(ids, weights, strict=True)]
    count = 1 if rng.random() < 0.8 else 2
    chosen: list[str] = []
    while len(chosen) < count:
        pick = rng.choices(ids, weights)[0]
        if pick not in chosen:
            chosen.append(pick)
    return [Tag(id=t, score=round(rng.uniform(0.42, 0.99), 2)) for t in chosen]


def _items_for_day(rng: random.Random, plan: Plan, source: Source, responsible: bool,
                   day: date) -> Iterator[Item]:
    per_day, relevant_share = RATES[source.kind] if responsible else REFERENCE_RATE
    count = max(0, round(rng.gauss(per_day, per_day ** 0.5 / 2)))
    for n in range(count):
        moment = datetime.combine(day, time(6, 0), LOCAL_TZ) + timedelta(
            minutes=rng.randint(0, 17 * 60 - 1))
        place = rng.choice(PLACES)
        title = rng.choice(OTHER_TITLES)
        themes: list[Tag] = []
        anniversaries: list[Tag] = []
        for anniversary_id, titles in ANNIVERSARY_TITLES.items():
            if rng.random() < _anniversary_weight(plan, anniversary_id, day) * 0.5:
                anniversaries.append(Tag(id=anniversary_id, score=round(rng.uniform(0.55, 0.99),
                                                                        2)))
                title = rng.choice(titles)
        if rng.random() < relevant_share:
            themes = _themes_for(rng, plan, source)
        if themes:
            title = rng.choice(THEME_TITLES[themes[0].id])
        url = f"{(source.home or 'https://facebook.com/' + source.id).rstrip('/')}/" \
              f"{day.isoformat()}-{n}.html"
        yield Item(id=item_id_for_url(url), url=url, source=source.id, unit=source.unit,
                   kind=source.kind, title=title.format(place=place),
                   text=f"{title.format(place=place)}. Nội dung bài viết mẫu.",
                   published_at=moment, fetched_at=moment + timedelta(minutes=20),
                   relevant=bool(themes or anniversaries), themes=themes,
                   anniversaries=anniversaries)


def fill_sample_store(store: Store, plan: Plan, sources: list[Source], *,
                      end: date = SAMPLE_END, weeks: int = SAMPLE_WEEKS,
                      seed: int = 2025) -> int:
    """Writes the sample items, source states and feedback; returns how many items."""
    rng = random.Random(seed)
    start = end - timedelta(days=7 * weeks - 1)
    week_start = end - timedelta(days=6)
    responsible = {u.id: u.responsible for u in plan.units}
    items: list[Item] = []
    for source in sources:
        if not source.enabled:
            continue
        for offset in range((end - start).days + 1):
            day = start + timedelta(days=offset)
            if source.id == "cairang-portal" and day >= week_start:
                continue                               # a unit silent in the report week
            if source.id == "canthotv" and day >= date(2025, 4, 24):
                continue                               # its site broke on 24/4
            items.extend(_items_for_day(rng, plan, source, responsible.get(source.unit, True),
                                        day))
    # A few stories the portals republish from the newspaper: kept once per unit.
    originals = [i for i in items if i.source == "baocantho" and i.relevant][:12]
    for index, original in enumerate(originals):
        copy_source = next(s for s in sources if s.id == ("ninhkieu-portal" if index % 2
                                                          else "binhthuy-portal"))
        url = f"{copy_source.home}lai-dang/{original.id}.html"
        items.append(original.model_copy(update={
            "id": item_id_for_url(url), "url": url, "source": copy_source.id,
            "unit": copy_source.unit, "kind": copy_source.kind,
            "published_at": original.published_at + timedelta(hours=3),
            "duplicate_of": original.id}))
    store.upsert(items)
    crawled = datetime.combine(end + timedelta(days=1), time(6, 0), LOCAL_TZ)
    for source in sources:
        if not source.crawlable:
            continue
        if source.id == "canthotv":
            state = SourceState(source_id=source.id, consecutive_failures=27,
                                last_error="HTTP 503 Service Unavailable",
                                last_success=datetime(2025, 4, 23, 22, 0, tzinfo=LOCAL_TZ),
                                last_attempt=crawled)
        else:
            state = SourceState(source_id=source.id, last_success=crawled, last_attempt=crawled)
        store.put_source_state(state)
    in_week = [i for i in items if i.relevant and i.published_at
               and i.published_at.date() >= week_start]
    for index, item in enumerate(in_week[:9]):
        label = (item.themes or item.anniversaries)[0]
        action = ("reject", "confirm", "add")[index % 3]
        kind = "theme" if item.themes else "anniversary"
        store.add_feedback(Feedback(
            item_id=item.id, label_kind=kind,
            label=label.id if action != "add" else "dai-doan-ket-an-sinh",
            action=action, user="can-bo-tuyen-giao",
            at=datetime.combine(week_start + timedelta(days=index % 7), time(15, 0), LOCAL_TZ)))
    return len(items)


def sample_reports(store: Store, plan: Plan, sources: list[Source]) -> dict[str, Report]:
    return {
        "weekly": build_weekly(store, plan, sources, week=SAMPLE_WEEK, now=GENERATED_AT),
        "month": build_range(store, plan, sources, date(2025, 4, 1), date(2025, 4, 30),
                             granularity="week", now=GENERATED_AT),
        "unit": build_weekly(store, plan, sources, week=SAMPLE_WEEK, unit="bao-can-tho",
                             now=GENERATED_AT),
    }


def write_samples(out_dir: Path, config_dir: Path) -> list[Path]:
    from store.sqlite import SQLiteStore

    plan = load_plan(find_plan_file(config_dir))
    sources = sample_sources(load_sources(config_dir / "sources.yaml", plan))
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "sample.sqlite3")
        try:
            fill_sample_store(store, plan, sources)
            reports = sample_reports(store, plan, sources)
        finally:
            store.close()
    for name, report in reports.items():
        formats = FORMATS if name == "weekly" else ("html", "json")
        for fmt in formats:
            path = out_dir / filename(report, fmt)
            path.write_bytes(render(report, fmt))
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports.sample", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("docs/samples"))
    parser.add_argument("--config", type=Path, default=Path("config"))
    args = parser.parse_args(argv)
    for path in write_samples(args.out, args.config):
        print(path, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
