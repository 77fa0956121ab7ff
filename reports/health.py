"""Was a source crawled fine during a period? Derived from the crawler's state.

The crawler keeps one current state per source (consecutive failures, last
success, last error), not a history, so the health of a past period is read
from it this way:

- ``ok``: a crawl succeeded at or after the period's start (a later success
  still reads the period's items from feeds and sitemaps), or the source is not
  crawled at all (``import``: a unit's exported posts, added by ``dophu import``);
- ``failing``: the source is failing now and has not succeeded since the
  period began, so every attempt in the period failed;
- ``not_crawled``: no attempt has succeeded or failed since the period began
  (never crawled, or crawling stopped before it);
- ``disabled``: switched off in sources.yaml; not expected to publish.

A unit's silence is asserted (a "gap") only when all its enabled sources are ``ok``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from dophu.config import Source
from dophu.models import SourceState

Health = Literal["ok", "import", "failing", "not_crawled", "disabled"]
FINE: frozenset[str] = frozenset({"ok", "import"})


def source_health(source: Source | None, state: SourceState | None,
                  period_start: datetime) -> Health:
    """The health of one source for a period that began at ``period_start`` (aware)."""
    if source is not None and not source.enabled:
        return "disabled"
    if state is None:
        if source is not None and not source.crawlable:
            return "import"
        return "not_crawled"
    succeeded_since = state.last_success is not None and state.last_success >= period_start
    if succeeded_since:
        return "ok"
    if state.consecutive_failures > 0:
        return "failing"
    if source is not None and not source.crawlable:
        return "import"
    return "not_crawled"


UnitStatus = Literal["ok", "failing", "partial", "not_crawled", "not_monitored"]


def unit_status(healths: list[Health]) -> UnitStatus:
    """A unit's status from its sources' health (disabled sources left out): ``partial``
    when some sources are fine and others failing or not crawled."""
    active = [h for h in healths if h != "disabled"]
    if not active:
        return "not_monitored"
    fine = sum(h in FINE for h in active)
    if fine == len(active):
        return "ok"
    failing = sum(h == "failing" for h in active)
    if fine == 0:
        return "failing" if failing else "not_crawled"
    return "partial"
