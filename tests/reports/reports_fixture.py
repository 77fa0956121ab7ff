"""The report tests' fixture data: a small plan and tagged items whose every count is known.

Week under test: 2025-W18 (Monday 28/04 – Sunday 04/05/2025, Asia/Ho_Chi_Minh);
the week before is 2025-W17 (21/04 – 27/04). The items, and which week each
falls in, are listed in ``ITEMS`` below; the tests assert the sums by hand.
(A uniquely named module, not conftest, so that tests can import it.)
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from dophu.config import Anniversary, Phase, Plan, Source, Theme, Unit, Window
from dophu.models import Feedback, Item, SourceState, Tag
from store.sqlite import SQLiteStore

REPO = Path(__file__).resolve().parents[2]


def make_plan() -> Plan:
    return Plan(
        id="test-plan", name="Kế hoạch thử nghiệm",
        themes=[
            Theme(id="niem-tin-moi", name="Niềm tin mới, khí thế mới", ref="II.1.1", major=True),
            Theme(id="co-do-40-nam", name="Cơ đồ, tiềm lực sau 40 năm đổi mới", ref="II.1.2",
                  major=True),
            Theme(id="ky-nguyen-moi", name="Kỷ nguyên mới", ref="II.1.3", major=True),
            Theme(id="dai-hoi-dang", name="Đại hội đảng bộ các cấp", ref="II.2"),
        ],
        anniversaries=[
            Anniversary(id="giai-phong-mien-nam-50", name="50 năm giải phóng miền Nam",
                        event_date=date(1975, 4, 30), date=date(2025, 4, 30),
                        window=Window(before=45, after=10)),       # 16/03 – 10/05
            Anniversary(id="sinh-nhat-bac-135", name="135 năm Ngày sinh Bác",
                        event_date=date(1890, 5, 19), date=date(2025, 5, 19),
                        window=Window(before=30, after=10)),       # 19/04 – 29/05
            Anniversary(id="quoc-khanh-80", name="80 năm Quốc khánh",
                        event_date=date(1945, 9, 2), date=date(2025, 9, 2),
                        window=Window(before=40, after=10)),       # not near W18
        ],
        phases=[
            Phase(id="dau-nam-2025", name="Đầu năm 2025", start=date(2025, 1, 1),
                  end=date(2025, 3, 15)),
            Phase(id="den-dai-hoi-xiv", name="Đến Đại hội XIV", start=date(2025, 3, 16),
                  end=date(2026, 1, 25)),
        ],
        units=[
            Unit(id="bao-can-tho", name="Báo Cần Thơ", group="press"),
            Unit(id="dai-ptth", name="Đài PT-TH Cần Thơ", group="broadcaster"),
            Unit(id="quan-ninh-kieu", name="Quận ủy Ninh Kiều", group="district"),
            Unit(id="hoi-lhpn", name="Hội Liên hiệp Phụ nữ", group="mass-organization"),
            Unit(id="phuong-an-binh", name="Đảng ủy phường An Bình", group="ward"),
            Unit(id="bao-chi-trung-uong", name="Báo chí trung ương", group="reference",
                 responsible=False),
        ],
    )


def make_sources() -> list[Source]:
    return [
        Source(id="baocantho", name="Báo Cần Thơ", unit="bao-can-tho", kind="newspaper",
               home="https://baocantho.com.vn/"),
        Source(id="canthotv", name="Cần Thơ TV", unit="dai-ptth", kind="broadcaster",
               home="https://canthotv.vn/"),
        Source(id="ninhkieu-portal", name="Cổng TTĐT Ninh Kiều", unit="quan-ninh-kieu",
               kind="portal", home="https://ninhkieu.cantho.gov.vn/"),
        Source(id="fb-hoi-phu-nu", name="Facebook Hội Phụ nữ", unit="hoi-lhpn",
               kind="social"),                                       # import only
        Source(id="vnexpress", name="VnExpress", unit="bao-chi-trung-uong", kind="newspaper",
               home="https://vnexpress.net/"),
    ]


def tag(label: str, score: float) -> Tag:
    return Tag(id=label, score=score, evidence=[label])


def item(item_id: str, source: str, unit: str, when: str, *, themes: dict[str, float] | None = None,
         anniversaries: dict[str, float] | None = None, relevant: bool | None = None,
         title: str | None = None, url: str | None = None,
         duplicate_of: str | None = None, kind: str = "newspaper") -> Item:
    themes = themes or {}
    anniversaries = anniversaries or {}
    if relevant is None and (themes or anniversaries):
        relevant = True
    return Item(id=item_id, url=url or f"https://example.vn/{item_id}", source=source, unit=unit,
                kind=kind, title=title or f"Tin {item_id}", text=f"Nội dung {item_id}",
                published_at=when, relevant=relevant,
                themes=[tag(k, v) for k, v in themes.items()],
                anniversaries=[tag(k, v) for k, v in anniversaries.items()],
                duplicate_of=duplicate_of)


NK, GP = "niem-tin-moi", "giai-phong-mien-nam-50"

ITEMS = [
    # ---- 2025-W18 (28/04 – 04/05): 9 items, 6 relevant, 1 untagged
    # Sunday 23:30 local (16:30 UTC) is still W18
    item("b1", "baocantho", "bao-can-tho", "2025-05-04T16:30:00Z",
         themes={NK: 0.9}, anniversaries={GP: 0.8},
         title='Niềm tin <script>alert("x")</script> | mới & "khí thế"'),
    # Monday 00:00 local exactly: the first instant of W18
    item("b3", "baocantho", "bao-can-tho", "2025-04-27T17:00:00Z", themes={"co-do-40-nam": 0.5}),
    item("b5", "baocantho", "bao-can-tho", "2025-04-30T09:00:00+07:00", relevant=False),
    item("b6", "baocantho", "bao-can-tho", "2025-04-29T10:00:00+07:00"),          # untagged
    item("b7", "baocantho", "bao-can-tho", "2025-05-01T08:00:00+07:00",
         themes={"ky-nguyen-moi": 0.95, "dai-hoi-dang": 0.55}),
    item("n1", "ninhkieu-portal", "quan-ninh-kieu", "2025-05-02T08:00:00+07:00",
         themes={NK: 0.65}, kind="portal"),
    item("n2", "ninhkieu-portal", "quan-ninh-kieu", "2025-05-01T11:00:00+07:00",
         themes={"ky-nguyen-moi": 0.95, "dai-hoi-dang": 0.55}, duplicate_of="b7",
         kind="portal"),
    item("v1", "vnexpress", "bao-chi-trung-uong", "2025-04-30T07:00:00+07:00",
         themes={NK: 0.99}),
    item("v2", "vnexpress", "bao-chi-trung-uong", "2025-04-30T08:00:00+07:00", relevant=False),
    # ---- the next week: Monday 00:30 local (Sunday 17:30 UTC) is W19
    item("b2", "baocantho", "bao-can-tho", "2025-05-04T17:30:00Z", themes={NK: 0.9}),
    # ---- 2025-W17 (21/04 – 27/04): 4 items, 3 relevant
    # Sunday 23:59 local (16:59 UTC) is W17
    item("b4", "baocantho", "bao-can-tho", "2025-04-27T16:59:00Z", themes={NK: 0.7}),
    item("c1", "canthotv", "dai-ptth", "2025-04-21T08:00:00+07:00", themes={NK: 0.8},
         kind="broadcaster"),
    item("c2", "canthotv", "dai-ptth", "2025-04-22T08:00:00+07:00", themes={NK: 0.8},
         kind="broadcaster"),
    item("n0", "ninhkieu-portal", "quan-ninh-kieu", "2025-04-23T08:00:00+07:00",
         relevant=False, kind="portal"),
    # ---- earlier: W16 in the 30/4 window, W11 before it opens (16/03)
    item("g0", "baocantho", "bao-can-tho", "2025-04-15T08:00:00+07:00",
         anniversaries={GP: 0.9}),
    item("g9", "baocantho", "bao-can-tho", "2025-03-10T08:00:00+07:00",
         anniversaries={GP: 0.9}),
]

STATES = [
    # crawled fine after the week: its W18 items were seen
    SourceState(source_id="baocantho", last_success=datetime.fromisoformat(
        "2025-05-05T06:00:00+07:00"), last_attempt=datetime.fromisoformat(
        "2025-05-05T06:00:00+07:00")),
    # failing since before W18 began: "failing", never a gap
    SourceState(source_id="canthotv", consecutive_failures=4, last_error="HTTP 503",
                last_success=datetime.fromisoformat("2025-04-20T06:00:00+07:00"),
                last_attempt=datetime.fromisoformat("2025-05-05T06:00:00+07:00")),
    # succeeded during W18, failed once since: crawled fine for W18
    SourceState(source_id="ninhkieu-portal", consecutive_failures=1, last_error="timeout",
                last_success=datetime.fromisoformat("2025-04-30T06:00:00+07:00"),
                last_attempt=datetime.fromisoformat("2025-05-05T06:00:00+07:00")),
    SourceState(source_id="vnexpress", last_success=datetime.fromisoformat(
        "2025-05-05T06:00:00+07:00")),
]

FEEDBACK = [
    Feedback(item_id="b3", label_kind="theme", label="co-do-40-nam", action="reject",
             user="an", at="2025-04-29T10:00:00+07:00"),
    Feedback(item_id="b1", label_kind="theme", label=NK, action="confirm", user="an",
             at="2025-05-01T10:00:00+07:00"),
    Feedback(item_id="n1", label_kind="theme", label="ky-nguyen-moi", action="add",
             user="binh", at="2025-05-04T23:00:00+07:00"),
    # the review queue's "does not apply" to a label b1 lacks: a confirmation, not a correction
    Feedback(item_id="b1", label_kind="anniversary", label="quoc-khanh-80", action="dismiss",
             user="binh", at="2025-05-02T10:00:00+07:00"),
    # outside W18: Monday 00:10 local after it, Sunday 23:59 local before it
    Feedback(item_id="b7", label_kind="theme", label="dai-hoi-dang", action="reject",
             user="an", at="2025-05-05T00:10:00+07:00"),
    Feedback(item_id="b4", label_kind="theme", label=NK, action="reject", user="an",
             at="2025-04-27T23:59:00+07:00"),
]


def fill(store: SQLiteStore) -> None:
    store.upsert(ITEMS)
    for state in STATES:
        store.put_source_state(state)
    for feedback in FEEDBACK:
        store.add_feedback(feedback)
