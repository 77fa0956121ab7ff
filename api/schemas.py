"""The JSON shapes of the HTTP API (their OpenAPI schema is the API's documentation).

Items keep the item form of ``docs/interface.md``; search hits add the
``highlights`` the store made (HTML-escaped text with ``<mark>`` around matches).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from dophu.models import Feedback, Item, LabelKind, SourceKind
from store.base import CoverageRow

HealthStatus = Literal["ok", "failing", "not_crawled", "import", "disabled"]


class ItemOut(Item):
    """Một tin bài, kèm đoạn trích có đánh dấu từ khóa. / An item with its search highlights."""

    highlights: dict[str, str] = Field(
        default_factory=dict,
        description="Đoạn trích (đã thoát HTML, từ khớp trong <mark>) theo trường title/text. / "
                    "Snippets per field (HTML-escaped, matches in <mark>).")


class SearchResponse(BaseModel):
    """Kết quả tìm kiếm. / Search results."""

    total: int = Field(description="Số tin bài khớp. / Items matching the query and filters.")
    page: int
    size: int
    items: list[ItemOut]
    facets: dict[str, dict[str, int]] = Field(
        description="Số tin bài khớp theo theme, anniversary, unit, source, kind. / "
                    "Counts of matching items by dimension.")


class ItemBrief(BaseModel):
    """Tóm tắt một tin bài (bản trùng). / A short reference to an item (a duplicate)."""

    id: str
    title: str
    url: str | None
    source: str
    unit: str
    published_at: datetime | None


class ItemDetail(ItemOut):
    """Một tin bài với nhãn, bằng chứng, bản trùng và các chỉnh sửa của người dùng. /
    One item with its tags and evidence, its duplicates and people's corrections."""

    duplicates: list[ItemBrief] = Field(
        default_factory=list,
        description="Các tin bài được đánh dấu là bản trùng của tin này. / Items marked as "
                    "duplicates of this one.")
    original: ItemBrief | None = Field(
        default=None, description="Tin bài gốc khi tin này là bản trùng. / The item this one "
                                  "duplicates (see duplicate_of).")
    corrections: list[Feedback] = Field(
        default_factory=list,
        description="Xác nhận, bác bỏ, bổ sung nhãn của người dùng. / People's confirmations, "
                    "rejections and additions of tags.")


class FeedbackIn(BaseModel):
    """Xác nhận, bác bỏ một nhãn hoặc bổ sung nhãn còn thiếu. /
    Confirm or reject a tag, or add a missing one."""

    model_config = ConfigDict(extra="forbid")

    label_kind: LabelKind = Field(description="theme | anniversary")
    label: str = Field(min_length=1, max_length=100,
                       description="Mã chủ đề/ngày kỷ niệm trong kế hoạch. / A plan label id.")
    action: Literal["confirm", "reject", "add", "dismiss"] = Field(
        description="confirm: nhãn đúng / the tag is right; reject: nhãn sai / it is wrong; "
                    "add: nhãn còn thiếu / a missing tag; dismiss: nhãn không có và đúng là "
                    "không áp dụng (hàng đợi xem lại) / an absent label rightly absent (the "
                    "review queue's 'no' to a label the tagger nearly gave).")
    note: str = Field(default="", max_length=1000, description="Ghi chú. / A note.")


class ReviewCandidate(BaseModel):
    """Một nhãn của một tin bài mà bộ phân loại phân vân. /
    One label of one item that the classifier is unsure about."""

    item: ItemBrief
    label_kind: LabelKind
    label: str
    label_name: str
    score: float = Field(description="Điểm hiện tại. / The current tagger's combined score.")
    threshold: float = Field(description="Ngưỡng của nhãn. / The label's threshold.")
    distance: float = Field(description="Khoảng cách tới ngưỡng (log-odds). / "
                                        "|log-odds(score) - log-odds(threshold)|.")
    tagged: bool = Field(description="Bộ phân loại hiện tại có gán nhãn không. / Whether the "
                                     "current tagger gives the tag.")
    stored: bool = Field(description="Tin bài đã lưu có mang nhãn không (xác nhận/bác bỏ "
                                     "nếu có, bổ sung/bác bỏ nếu không). / Whether the stored "
                                     "item carries the tag (confirm/reject it; else add or "
                                     "reject).")
    evidence: list[str]


class ReviewResponse(BaseModel):
    """Hàng đợi xem lại. / The review queue."""

    date_from: date | None
    date_to: date | None
    items_in_period: int = Field(description="Tin bài (không kể bản trùng) đăng trong kỳ. / "
                                             "Stored items published in the period, "
                                             "duplicates left out.")
    items_scored: int = Field(description="Số tin mới nhất đã chấm lại (tối đa max_items). / "
                                          "The newest items scored (at most max_items).")
    model: str | None = Field(description="Phiên bản mô hình đã chấm; null: chỉ dùng luật của "
                                          "kế hoạch. / The model version scored with; null: "
                                          "the plan's rules alone.")
    candidates: list[ReviewCandidate]


class CoverageResponse(BaseModel):
    """Số tin bài theo nhóm và theo kỳ. / Item counts grouped by dimensions and periods."""

    date_from: date | None = Field(alias="from")
    date_to: date | None = Field(alias="to")
    group_by: list[str]
    interval: str | None
    total: int = Field(description="Số tin bài khớp bộ lọc (mỗi tin tính một lần). / Items "
                                   "matching the filters, each counted once.")
    rows: list[CoverageRow]

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class SourceHealth(BaseModel):
    """Tình trạng thu thập của một nguồn. / A source's crawl health."""

    status: HealthStatus = Field(
        description="ok | failing (lỗi / failing) | not_crawled (chưa thu thập / never crawled) "
                    "| import (nhập tay / added by import) | disabled (tắt / switched off)")
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    consecutive_failures: int = 0
    last_error: str | None = None
    last_run: dict[str, int] = Field(default_factory=dict)
    next_due: datetime | None = None
    crawl_requested_at: datetime | None = None
    crawl_requested_by: str | None = None


class WeekCount(BaseModel):
    week: str
    items: int


class SourceOut(BaseModel):
    """Một nguồn tin với tình trạng và số tin bài mỗi tuần. /
    A source with its health and items per week."""

    id: str
    name: str
    unit: str
    unit_name: str
    kind: SourceKind
    home: str | None
    feeds: list[str]
    sitemaps: list[str]
    listings: list[str]
    interval: str
    enabled: bool
    crawlable: bool
    configured: bool = Field(description="Có trong sources.yaml. / Listed in sources.yaml.")
    health: SourceHealth
    items_per_week: list[WeekCount]


class SourcesResponse(BaseModel):
    weeks: list[str] = Field(description="Các tuần ISO của items_per_week. / The ISO weeks "
                                         "of items_per_week.")
    sources: list[SourceOut]


class CrawlRequestOut(BaseModel):
    """Yêu cầu thu thập đã ghi nhận. / A recorded crawl request."""

    source: str
    requested_at: datetime
    requested_by: str
    next_due: datetime
    message: str


class HealthOut(BaseModel):
    status: Literal["ok"]
    items: int


class ErrorOut(BaseModel):
    detail: str
