"""The data shapes every stage passes along: Item (with its tags), feedback, source state."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dophu.dates import parse_datetime
from dophu.text import normalize_text

SourceKind = Literal["newspaper", "broadcaster", "portal", "organization", "social"]
LabelKind = Literal["theme", "anniversary"]


class Tag(BaseModel):
    """One label on an item, with how sure we are and why."""

    model_config = ConfigDict(frozen=True)

    id: str
    score: float = Field(ge=0.0, le=1.0)
    evidence: list[str] = Field(default_factory=list)


def item_id_for_url(url: str) -> str:
    """An item's identity: a hash of its canonical URL."""
    return hashlib.sha1(url.encode("utf-8")).hexdigest()[:20]


def item_id_for_content(source: str, title: str, text: str) -> str:
    """Identity for an item with no URL (an exported social post)."""
    digest = hashlib.sha1(f"{source}\n{title}\n{text}".encode()).hexdigest()[:20]
    return f"c{digest[1:]}"


def content_hash(title: str, text: str) -> str:
    """Exact-duplicate key: the same words in the same order, whatever the spacing/case."""
    body = " ".join(f"{title}\n{text}".lower().split())
    return hashlib.sha1(body.encode("utf-8")).hexdigest()


class Item(BaseModel):
    """A published piece (article, notice, video caption, post), NFC-normalised when built."""

    model_config = ConfigDict(extra="forbid")

    id: str
    url: str | None = None
    source: str
    unit: str
    kind: SourceKind
    title: str
    text: str = ""
    published_at: datetime | None = None
    fetched_at: datetime | None = None
    relevant: bool | None = None
    themes: list[Tag] = Field(default_factory=list)
    anniversaries: list[Tag] = Field(default_factory=list)
    duplicate_of: str | None = None
    content_hash: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)

    @field_validator("title", mode="before")
    @classmethod
    def _normalize_title(cls, value: Any) -> str:
        return normalize_text(value or "", multiline=False)

    @field_validator("text", mode="before")
    @classmethod
    def _normalize_text(cls, value: Any) -> str:
        return normalize_text(value or "")

    @field_validator("published_at", "fetched_at", mode="before")
    @classmethod
    def _aware(cls, value: Any) -> datetime | None:
        return parse_datetime(value)

    def model_post_init(self, __context: Any) -> None:
        if self.content_hash is None:
            self.content_hash = content_hash(self.title, self.text)

    @property
    def tagged(self) -> bool:
        return self.relevant is not None

    def tags(self, kind: LabelKind) -> list[Tag]:
        return self.themes if kind == "theme" else self.anniversaries

    def public_dict(self) -> dict[str, Any]:
        """The item form of interface.md (JSON-ready)."""
        return self.model_dump(mode="json")


class Feedback(BaseModel):
    """A person confirming, rejecting or adding one tag on one item, or dismissing a label
    the item rightly lacks (the review queue's "no" to a label the tagger nearly gave)."""

    id: int | None = None
    item_id: str
    label_kind: LabelKind
    label: str
    action: Literal["confirm", "reject", "add", "dismiss"]
    user: str
    at: datetime
    note: str = ""

    @field_validator("at", mode="before")
    @classmethod
    def _aware(cls, value: Any) -> datetime:
        parsed = parse_datetime(value)
        if parsed is None:
            raise ValueError("a time is required")
        return parsed


class SourceState(BaseModel):
    """What the crawler knows about one source: discovery, HTTP cache, health."""

    model_config = ConfigDict(extra="allow")

    source_id: str
    discovered_feeds: list[str] = Field(default_factory=list)
    discovered_sitemaps: list[str] = Field(default_factory=list)
    discovered_listings: list[str] = Field(default_factory=list)
    discovered_at: datetime | None = None
    http_cache: dict[str, dict[str, str]] = Field(default_factory=dict)
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    consecutive_failures: int = 0
    last_error: str | None = None
    last_run: dict[str, int] = Field(default_factory=dict)
    next_due: datetime | None = None

    @property
    def failing(self) -> bool:
        return self.consecutive_failures > 0
