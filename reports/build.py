"""Builds a :class:`~reports.model.Report` from the store, the plan and the sources.

Only the Store interface is used (count, coverage, search, feedback, source
state), so the same report comes out of SQLite and Elasticsearch. Counts are
items published in the period (local calendar days, Asia/Ho_Chi_Minh),
duplicates included: each unit's publication counts for coverage.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime
from typing import Any

from dophu.config import Plan, Source
from dophu.dates import LOCAL_TZ, DateParseError, iso_week_key, now_local
from dophu.models import Item
from reports.health import source_health, unit_status
from reports.highlights import highlights_for
from reports.model import (
    AnniversaryRow,
    AnniversaryUnit,
    PeriodRow,
    PhaseRef,
    Quality,
    Report,
    SourceRow,
    ThemeRow,
    TopItem,
    Totals,
    UnitRow,
)
from reports.periods import (
    GRANULARITIES,
    Granularity,
    Span,
    last_full_week,
    periods_in,
    previous_span,
    trend_span,
    week_span,
)
from store.base import CoverageQuery, Filters, QueryError, SearchQuery, Store

LOW_CONFIDENCE = 0.6     # a tag scored below this was decided on weak evidence
TOP_ITEMS = 5            # top items shown per theme
MAX_PERIODS = 800        # buckets in one report's time series
_SCORE_LADDER = (0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.3, 0.0)
_SEARCH_PAGE = 200


class ReportError(QueryError):
    """The report cannot be built as asked (unknown unit, bad week or dates)."""


def build_weekly(store: Store, plan: Plan, sources: list[Source], week: str | None = None,
                 unit: str | None = None, today: date | None = None, *,
                 now: datetime | None = None, top_n: int = TOP_ITEMS,
                 low_confidence: float = LOW_CONFIDENCE) -> Report:
    """The report for one ISO week (default: the last full week before ``today``)."""
    week = week or last_full_week(today)
    try:
        span = week_span(week)
    except DateParseError as exc:
        raise ReportError(f"--week: {exc}") from None
    builder = _Builder(store, plan, sources, unit, top_n=top_n, low_confidence=low_confidence)
    return builder.build(kind="weekly", week=iso_week_key(span.start), span=span,
                         previous=previous_span(span), series=trend_span(span),
                         granularity="week", now=now)


def build_range(store: Store, plan: Plan, sources: list[Source], date_from: date,
                date_to: date, granularity: Granularity = "week", unit: str | None = None, *,
                now: datetime | None = None, top_n: int = TOP_ITEMS,
                low_confidence: float = LOW_CONFIDENCE) -> Report:
    """The same report for any period (a month, a phase, the whole plan), its time series
    at day, week or month granularity; compared with the period just before."""
    if granularity not in GRANULARITIES:
        raise ReportError(f"--granularity: {granularity!r} is not one of day, week, month")
    if date_from > date_to:
        raise ReportError(f"--from {date_from.isoformat()} is after --to {date_to.isoformat()}")
    span = Span(date_from, date_to)
    if len(periods_in(span, granularity)) > MAX_PERIODS:
        raise ReportError(f"{span.days} days by {granularity} is more than {MAX_PERIODS} "
                          "periods; choose a coarser --granularity")
    builder = _Builder(store, plan, sources, unit, top_n=top_n, low_confidence=low_confidence)
    return builder.build(kind="range", week=None, span=span, previous=previous_span(span),
                         series=span, granularity=granularity, now=now)


class _Builder:
    """Asks the store for each figure of one report (about 30 counts and a few searches)."""

    def __init__(self, store: Store, plan: Plan, sources: list[Source], unit: str | None, *,
                 top_n: int, low_confidence: float):
        if unit is not None and plan.unit(unit) is None:
            raise ReportError(f"--unit: unknown unit {unit!r} (not in plan {plan.id!r}; "
                              "see 'dophu plan show')")
        self.store, self.plan, self.unit = store, plan, unit
        self.sources = list(sources)
        self.top_n, self.low_confidence = top_n, low_confidence
        self.theme_ids = plan.label_ids("theme")
        self.anniversary_ids = plan.label_ids("anniversary")
        self._unit_cache: dict[str, str | None] = {}

    # ------------------------------------------------------------ store access
    def _filters(self, span: Span, **extra: Any) -> dict[str, Any]:
        scope = {"units": [self.unit]} if self.unit else {}
        return {**scope, "date_from": span.start, "date_to": span.end, **extra}

    def _count(self, span: Span, **extra: Any) -> int:
        return self.store.count(Filters(**self._filters(span, **extra)))

    def _by(self, span: Span, group_by: list[str], **extra: Any) -> dict[tuple[str, ...], int]:
        rows = self.store.coverage(CoverageQuery(group_by=group_by,
                                                 **self._filters(span, **extra)))
        return {tuple(row.keys[d] for d in group_by): row.count for row in rows}

    def _by_period(self, span: Span, granularity: Granularity, group_by: list[str],
                   **extra: Any) -> dict[tuple[str, ...], int]:
        rows = self.store.coverage(CoverageQuery(group_by=group_by, interval=granularity,
                                                 **self._filters(span, **extra)))
        return {(row.period or "", *(row.keys[d] for d in group_by)): row.count for row in rows}

    # ------------------------------------------------------------ the report
    def build(self, *, kind: str, week: str | None, span: Span, previous: Span, series: Span,
              granularity: Granularity, now: datetime | None) -> Report:
        plan = self.plan
        unit = plan.unit(self.unit) if self.unit else None
        phases = [p for p in plan.phases if span.overlaps(p.start, p.end)]
        main_phase = max(phases, key=lambda p: (min(p.end, span.end) - max(p.start, span.start),
                                                -phases.index(p)), default=None)
        totals = self._totals(span, previous)
        periods = self._periods(series, granularity)
        units = self._units(span, previous)
        themes = self._themes(span, previous, units, periods)
        report = Report(
            kind=kind, week=week, date_from=span.start, date_to=span.end,
            timezone=LOCAL_TZ.key, granularity=granularity,
            generated_at=(now or now_local()).astimezone(LOCAL_TZ),
            plan_id=plan.id, plan_name=plan.name,
            unit=self.unit, unit_name=unit.name if unit else None,
            phase=main_phase.name if main_phase else None,
            phase_id=main_phase.id if main_phase else None,
            phases=[PhaseRef(id=p.id, name=p.name, start=p.start, end=p.end) for p in phases],
            previous_from=previous.start, previous_to=previous.end,
            totals=totals, highlights=[],
            themes=themes, periods=periods, units=units,
            anniversaries=self._anniversaries(span, units),
            top_items={t.id: self._top_items(span, t.id, t.items) for t in themes},
            quality=self._quality(span, totals),
        )
        return report.model_copy(update={"highlights": highlights_for(report)})

    def _theme_order(self) -> list[str]:
        themes = self.plan.themes
        return [t.id for t in themes if t.major] + [t.id for t in themes if not t.major]

    def _totals(self, span: Span, previous: Span) -> Totals:
        items, relevant = self._count(span), self._count(span, relevant=True)
        not_relevant = self._count(span, relevant=False)
        prev_items, prev_relevant = self._count(previous), self._count(previous, relevant=True)
        return Totals(
            items=items, relevant=relevant, relevant_share=_share(relevant, items),
            untagged=items - relevant - not_relevant,
            previous_items=prev_items, previous_relevant=prev_relevant,
            previous_relevant_share=_share(prev_relevant, prev_items),
            items_change=items - prev_items, relevant_change=relevant - prev_relevant,
            items_change_pct=_change(items, prev_items),
            relevant_change_pct=_change(relevant, prev_relevant),
        )

    def _periods(self, series: Span, granularity: Granularity) -> list[PeriodRow]:
        items = self._by_period(series, granularity, [])
        relevant = self._by_period(series, granularity, [], relevant=True)
        themes = self._by_period(series, granularity, ["theme"])
        return [PeriodRow(key=p.key, date_from=p.start, date_to=p.end,
                          items=items.get((p.key,), 0), relevant=relevant.get((p.key,), 0),
                          themes={t: themes.get((p.key, t), 0) for t in self._theme_order()})
                for p in periods_in(series, granularity)]

    def _themes(self, span: Span, previous: Span, units: list[UnitRow],
                periods: list[PeriodRow]) -> list[ThemeRow]:
        current, before = self._by(span, ["theme"]), self._by(previous, ["theme"])
        monitored = [u for u in units if u.responsible and u.status != "not_monitored"]
        rows = []
        for theme_id in self._theme_order():
            theme = self.plan.theme(theme_id)
            assert theme is not None
            items, prev = current.get((theme_id,), 0), before.get((theme_id,), 0)
            covering = [u.id for u in units if u.responsible and u.themes.get(theme_id, 0) > 0]
            rows.append(ThemeRow(
                id=theme.id, name=theme.name, ref=theme.ref, major=theme.major,
                items=items, previous=prev, change=items - prev, change_pct=_change(items, prev),
                units_covering=len(covering), units_total=len(monitored),
                units_share=_share(len(covering), len(monitored)), covering_units=covering,
                trend=[p.themes.get(theme_id, 0) for p in periods]))
        return rows

    def _units(self, span: Span, previous: Span) -> list[UnitRow]:
        unit_theme = self._by(span, ["unit", "theme"])
        unit_source = self._by(span, ["unit", "source"])
        unit_source_relevant = self._by(span, ["unit", "source"], relevant=True)
        source_theme = self._by(span, ["source", "theme"])
        unit_before = self._by(previous, ["unit"])
        states = self.store.list_source_states()
        period_start = span.bounds()[0]
        major = [t.id for t in self.plan.major_themes]

        seen_sources: dict[str, list[str]] = defaultdict(list)
        for unit_id, source_id in unit_source:
            seen_sources[unit_id].append(source_id)
        plan_units = [u for u in self.plan.units if self.unit in (None, u.id)]
        extra_units = sorted(set(seen_sources) - {u.id for u in self.plan.units})

        rows = []
        for unit_id in [u.id for u in plan_units] + extra_units:
            plan_unit = self.plan.unit(unit_id)
            configured = [s for s in self.sources if s.unit == unit_id]
            source_ids = [s.id for s in configured] + sorted(
                set(seen_sources[unit_id]) - {s.id for s in configured})
            source_rows = []
            for source_id in source_ids:
                source = next((s for s in configured if s.id == source_id), None)
                state = states.get(source_id)
                source_rows.append(SourceRow(
                    id=source_id, name=source.name if source else source_id,
                    kind=source.kind if source else None, configured=source is not None,
                    health=source_health(source, state, period_start),
                    items=unit_source.get((unit_id, source_id), 0),
                    relevant=unit_source_relevant.get((unit_id, source_id), 0),
                    themes={t: source_theme.get((source_id, t), 0) for t in self._theme_order()},
                    consecutive_failures=state.consecutive_failures if state else 0,
                    last_error=state.last_error if state else None,
                    last_success=_local(state.last_success) if state else None,
                    last_attempt=_local(state.last_attempt) if state else None))
            status = unit_status([r.health for r in source_rows if r.configured])
            responsible = plan_unit.responsible if plan_unit else False
            themes = {t: unit_theme.get((unit_id, t), 0) for t in self._theme_order()}
            missing = [t for t in major if themes[t] == 0] if responsible else []
            items = sum(r.items for r in source_rows)
            rows.append(UnitRow(
                id=unit_id, name=plan_unit.name if plan_unit else unit_id,
                group=plan_unit.group if plan_unit else "unknown", responsible=responsible,
                status=status, items=items, previous=unit_before.get((unit_id,), 0),
                relevant=sum(r.relevant for r in source_rows), themes=themes,
                gaps=missing if status == "ok" else [],
                unverified_gaps=missing if status in ("failing", "partial", "not_crawled")
                else [],
                failing_sources=[r.id for r in source_rows
                                 if r.configured and r.health == "failing"],
                silent=responsible and status == "ok" and items == 0,
                sources=source_rows))
        return rows

    def _anniversaries(self, span: Span, units: list[UnitRow]) -> list[AnniversaryRow]:
        names = {u.id: u.name for u in units}
        rows = []
        for anniversary in self.plan.anniversaries:
            if not span.overlaps(anniversary.window_start, anniversary.window_end):
                continue
            window = Span(anniversary.window_start, min(anniversary.window_end, span.end))
            current = self._by(span, ["unit"], anniversaries=[anniversary.id])
            so_far = self._by(window, ["unit"], anniversaries=[anniversary.id])
            unit_ids = sorted(set(current) | set(so_far),
                              key=lambda k: (-current.get(k, 0), -so_far.get(k, 0), k))
            rows.append(AnniversaryRow(
                id=anniversary.id, name=anniversary.name, date=anniversary.date,
                window_from=anniversary.window_start, window_to=anniversary.window_end,
                days_to=(anniversary.date - span.start).days,
                items=sum(current.values()), items_in_window=sum(so_far.values()),
                units=[AnniversaryUnit(unit=k[0], name=names.get(k[0], k[0]),
                                       items=current.get(k, 0), items_in_window=so_far.get(k, 0))
                       for k in unit_ids]))
        return rows

    def _top_items(self, span: Span, theme_id: str, tagged: int) -> list[TopItem]:
        """The highest-scored items of a theme (ties: the newest). When the theme has more
        items than one search page, searches from a high score down until enough are found,
        keeping every stronger hit seen on the way."""
        if tagged == 0:
            return []
        ladder = (0.0,) if tagged <= _SEARCH_PAGE else _SCORE_LADDER
        found: dict[str, Item] = {}
        for threshold in ladder:
            result = self.store.search(SearchQuery(
                **self._filters(span, themes=[theme_id], min_score=threshold,
                                include_duplicates=self.unit is not None),
                sort="date", size=_SEARCH_PAGE, facets=False, highlight=False))
            for hit in result.items:
                found.setdefault(hit.item.id, hit.item)
            if result.total >= self.top_n:
                break
        ranked = sorted(found.values(), key=lambda item: (
            -_tag_score(item, theme_id), -_timestamp(item), item.id))
        names = {u.id: u.name for u in self.plan.units}
        return [TopItem(id=item.id, title=item.title, url=item.url, unit=item.unit,
                        unit_name=names.get(item.unit, item.unit), source=item.source,
                        published_at=_local(item.published_at),
                        score=_tag_score(item, theme_id))
                for item in ranked[:self.top_n]]

    def _tagged_items(self, span: Span, min_score: float) -> int:
        """Items with at least one plan tag scored ``min_score`` or more (A ∪ B, counted as
        |A| + |B| − |A ∩ B| since the store's filters AND themes with anniversaries)."""
        themes = (self._count(span, themes=self.theme_ids, min_score=min_score)
                  if self.theme_ids else 0)
        if not self.anniversary_ids:
            return themes
        anniversaries = self._count(span, anniversaries=self.anniversary_ids, min_score=min_score)
        both = (self._count(span, themes=self.theme_ids, anniversaries=self.anniversary_ids,
                            min_score=min_score) if self.theme_ids else 0)
        return themes + anniversaries - both

    def _tag_count(self, span: Span, min_score: float) -> int:
        total = 0
        for dimension, ids in (("theme", self.theme_ids), ("anniversary", self.anniversary_ids)):
            counts = self._by(span, [dimension], min_score=min_score)
            total += sum(counts.get((i,), 0) for i in ids)
        return total

    def _quality(self, span: Span, totals: Totals) -> Quality:
        threshold = self.low_confidence
        tags, strong_tags = self._tag_count(span, 0.0), self._tag_count(span, threshold)
        tagged, strong_items = self._tagged_items(span, 0.0), self._tagged_items(span, threshold)
        start, end = span.bounds()
        feedback = self.store.list_feedback(since=start, until=end)
        if self.unit:
            feedback = [f for f in feedback if self._unit_of(f.item_id) == self.unit]
        corrections = [f for f in feedback if f.action in ("reject", "add")]
        return Quality(
            low_confidence_threshold=threshold, tags=tags, low_confidence_tags=tags - strong_tags,
            tagged_items=tagged, low_confidence_items=tagged - strong_items,
            untagged_items=totals.untagged, feedback=len(feedback),
            corrections=len(corrections),
            confirmations=sum(f.action in ("confirm", "dismiss") for f in feedback),
            corrected_items=len({f.item_id for f in corrections}),
            corrections_by_label=dict(sorted(Counter(f.label for f in corrections).items())))

    def _unit_of(self, item_id: str) -> str | None:
        if item_id not in self._unit_cache:
            item = self.store.get(item_id)
            self._unit_cache[item_id] = item.unit if item else None
        return self._unit_cache[item_id]


def _local(moment: datetime | None) -> datetime | None:
    """Times a person reads are Asia/Ho_Chi_Minh."""
    return moment.astimezone(LOCAL_TZ) if moment else None


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _change(current: int, previous: int) -> float | None:
    return round((current - previous) / previous, 4) if previous else None


def _tag_score(item: Item, theme_id: str) -> float:
    return next((t.score for t in item.themes if t.id == theme_id), 0.0)


def _timestamp(item: Item) -> float:
    moment = item.published_at or item.fetched_at
    return moment.timestamp() if moment else 0.0
