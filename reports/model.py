"""The report model: every number of a coverage report, in one pydantic shape.

HTML, XLSX, Markdown and JSON are all rendered from one :class:`Report`, so they
can never disagree. ``Report.model_dump(mode="json")`` is the JSON form
documented in docs/report-json.md (keys ``from``/``to`` by alias).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from reports.health import Health, UnitStatus
from reports.periods import Granularity

SCHEMA = "dophu.report/1"


class _Model(BaseModel):
    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True,
                              serialize_by_alias=True, extra="forbid")


class PhaseRef(_Model):
    id: str
    name: str
    start: date
    end: date


class Totals(_Model):
    """Items published in the period (duplicates included) and in the period before."""

    items: int
    relevant: int
    relevant_share: float | None          # relevant / items; null when nothing was collected
    untagged: int                         # not yet tagged (relevant unknown)
    previous_items: int
    previous_relevant: int
    previous_relevant_share: float | None
    items_change: int
    relevant_change: int
    items_change_pct: float | None        # null when the period before had nothing
    relevant_change_pct: float | None


class PeriodRow(_Model):
    """One bucket of the time series (a week of the 8-week trend, or a day/week/month)."""

    key: str
    date_from: date = Field(alias="from")
    date_to: date = Field(alias="to")
    items: int
    relevant: int
    themes: dict[str, int]


class ThemeRow(_Model):
    id: str
    name: str
    ref: str
    major: bool
    items: int
    previous: int
    change: int
    change_pct: float | None
    units_covering: int                   # responsible units with at least one item on it
    units_total: int                      # responsible units that are monitored (have sources)
    units_share: float | None
    covering_units: list[str]
    trend: list[int]                      # one count per entry of Report.periods


class SourceRow(_Model):
    id: str
    name: str
    kind: str | None
    configured: bool                      # in sources.yaml (false: only seen in the store)
    health: Health
    items: int
    relevant: int
    themes: dict[str, int]
    consecutive_failures: int = 0
    last_error: str | None = None
    last_success: datetime | None = None
    last_attempt: datetime | None = None


class UnitRow(_Model):
    id: str
    name: str
    group: str
    responsible: bool                     # false: reference press, never listed with gaps
    status: UnitStatus
    items: int
    previous: int
    relevant: int
    themes: dict[str, int]
    gaps: list[str]                       # major themes with nothing while every source was fine
    unverified_gaps: list[str]            # major themes with nothing, but a source was not fine
    failing_sources: list[str]
    silent: bool                          # published nothing at all while every source was fine
    sources: list[SourceRow]


class AnniversaryUnit(_Model):
    unit: str
    name: str
    items: int
    items_in_window: int


class AnniversaryRow(_Model):
    id: str
    name: str
    date: date
    window_from: date
    window_to: date
    days_to: int                          # anniversary date minus the period's first day
    items: int                            # tagged with it and published in the period
    items_in_window: int                  # since the window opened, up to the period's end
    units: list[AnniversaryUnit]


class TopItem(_Model):
    id: str
    title: str
    url: str | None
    unit: str
    unit_name: str
    source: str
    published_at: datetime | None
    score: float


class Quality(_Model):
    low_confidence_threshold: float
    tags: int                             # theme and anniversary tags on the period's items
    low_confidence_tags: int              # of which score < threshold
    tagged_items: int                     # items with at least one tag
    low_confidence_items: int             # tagged items whose every tag is < threshold
    untagged_items: int
    feedback: int                         # people's feedback recorded in the period
    corrections: int                      # of which rejections and additions of a tag
    confirmations: int
    corrected_items: int
    corrections_by_label: dict[str, int]


class Report(_Model):
    schema_: str = Field(default=SCHEMA, alias="schema")
    kind: Literal["weekly", "range"]
    week: str | None
    date_from: date = Field(alias="from")
    date_to: date = Field(alias="to")
    timezone: str
    granularity: Granularity
    generated_at: datetime
    plan_id: str
    plan_name: str
    unit: str | None                      # the report is restricted to this unit
    unit_name: str | None
    phase: str | None
    phase_id: str | None
    phases: list[PhaseRef]
    previous_from: date
    previous_to: date
    totals: Totals
    highlights: list[str]                 # the Vietnamese sentences a reader sees first
    themes: list[ThemeRow]
    periods: list[PeriodRow]
    units: list[UnitRow]
    anniversaries: list[AnniversaryRow]
    top_items: dict[str, list[TopItem]]
    quality: Quality

    @property
    def empty(self) -> bool:
        return self.totals.items == 0

    @property
    def major_themes(self) -> list[ThemeRow]:
        return [t for t in self.themes if t.major]

    @property
    def other_themes(self) -> list[ThemeRow]:
        return [t for t in self.themes if not t.major]

    @property
    def responsible_units(self) -> list[UnitRow]:
        return [u for u in self.units if u.responsible]

    @property
    def reference_units(self) -> list[UnitRow]:
        return [u for u in self.units if not u.responsible]

    def theme_name(self, theme_id: str) -> str:
        return next((t.name for t in self.themes if t.id == theme_id), theme_id)

    def unit_row(self, unit_id: str) -> UnitRow | None:
        return next((u for u in self.units if u.id == unit_id), None)
