"""The one Store interface every backend implements, and its query/result shapes.

Nothing here knows SQLite or Elasticsearch: the API, the reports and the CLI
talk to this interface only, so both backends pass one shared test suite.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from dophu.models import Feedback, Item, SourceState

Dimension = Literal["theme", "anniversary", "unit", "source", "kind"]
Interval = Literal["day", "week", "month"]
SortOrder = Literal["relevance", "date", "date_asc"]

DIMENSIONS: tuple[str, ...] = ("theme", "anniversary", "unit", "source", "kind")
MAX_QUERY_CHARS = 1000
MAX_QUERY_TERMS = 32
MAX_PAGE_SIZE = 200


class StoreError(RuntimeError):
    """The store cannot do what was asked (unreachable, read-only, corrupt)."""


class StoreUnavailable(StoreError):
    """The store's server cannot be reached right now; the same call may succeed later."""


class QueryError(ValueError):
    """The user's query or filters are not acceptable; the message says why."""


class Filters(BaseModel):
    """Filters shared by search, count and coverage; lists mean "any of"."""

    themes: list[str] = Field(default_factory=list)
    anniversaries: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    units: list[str] = Field(default_factory=list)
    kinds: list[str] = Field(default_factory=list)
    date_from: date | None = None     # local calendar day, inclusive
    date_to: date | None = None       # local calendar day, inclusive
    relevant: bool | None = None
    min_score: float = Field(default=0.0, ge=0.0, le=1.0)  # applies to theme/anniversary filters
    include_duplicates: bool = True


class SearchQuery(Filters):
    text: str | None = None
    sort: SortOrder = "relevance"
    page: int = Field(default=1, ge=1, le=10_000)
    size: int = Field(default=20, ge=0, le=MAX_PAGE_SIZE)
    facets: bool = True
    highlight: bool = True


class SearchHit(BaseModel):
    item: Item
    score: float | None = None
    highlights: dict[str, str] = Field(default_factory=dict)  # field -> snippet with <mark>


class SearchResult(BaseModel):
    total: int
    items: list[SearchHit]
    facets: dict[str, dict[str, int]] = Field(default_factory=dict)


class CoverageQuery(Filters):
    group_by: list[Dimension] = Field(default_factory=list)
    interval: Interval | None = None


class CoverageRow(BaseModel):
    keys: dict[str, str]
    period: str | None = None   # "2025-04-28", "2025-W18" or "2025-04" in Asia/Ho_Chi_Minh
    count: int


class UpsertResult(BaseModel):
    new: int = 0
    updated: int = 0
    unchanged: int = 0


class Store(ABC):
    """Items, their tags, people's feedback and the crawler's per-source state."""

    # ---- items
    @abstractmethod
    def upsert(self, items: Iterable[Item]) -> UpsertResult:
        """Insert or replace items by id; re-sending the same item changes nothing."""

    @abstractmethod
    def get(self, item_id: str) -> Item | None: ...

    @abstractmethod
    def search(self, query: SearchQuery) -> SearchResult: ...

    @abstractmethod
    def count(self, filters: Filters | None = None) -> int: ...

    @abstractmethod
    def coverage(self, query: CoverageQuery) -> list[CoverageRow]:
        """Item counts grouped by dimensions and/or a local calendar interval."""

    @abstractmethod
    def iter_items(self, *, after_id: str | None = None, batch_size: int = 1000
                   ) -> Iterator[Item]:
        """Every item in id order, from after ``after_id``: export and resumable copies."""

    @abstractmethod
    def delete_source(self, source_id: str) -> int: ...

    @abstractmethod
    def find_by_content_hash(self, content_hash: str) -> list[str]:
        """Ids of items with exactly this content (oldest first)."""

    @abstractmethod
    def known_ids(self, ids: Iterable[str]) -> set[str]: ...

    @abstractmethod
    def duplicates_of(self, item_id: str) -> list[str]: ...

    # ---- feedback
    @abstractmethod
    def add_feedback(self, feedback: Feedback) -> Feedback: ...

    @abstractmethod
    def list_feedback(self, *, item_id: str | None = None, since: datetime | None = None,
                      until: datetime | None = None) -> list[Feedback]: ...

    # ---- crawl state (kept apart from content)
    @abstractmethod
    def get_source_state(self, source_id: str) -> SourceState | None: ...

    @abstractmethod
    def put_source_state(self, state: SourceState) -> None: ...

    @abstractmethod
    def list_source_states(self) -> dict[str, SourceState]: ...

    # ---- life cycle
    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
