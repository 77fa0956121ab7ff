"""The weekly report of the busiest week: ``build_weekly`` + ``render(..., "json")``.

Run: ``.venv/bin/python -m bench --only report``. Timed three times on the same
store (the first run pays the cold caches); the figure is the median.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import Clock, Row, median
from bench.workspace import Workspace
from dophu.config import Plan, Source
from reports.build import build_weekly
from reports.render import render
from store.base import CoverageQuery, Store
from store.sqlite import SQLiteStore

REPORT_TARGET_S = 2.0


def busiest_week(store: Store) -> tuple[str, int]:
    rows = store.coverage(CoverageQuery(interval="week"))
    best = max(rows, key=lambda r: (r.count, r.period or ""))
    return best.period or "", best.count


def time_weekly(store: Store, plan: Plan, sources: Sequence[Source], week: str,
                repeats: int = 3) -> dict[str, Any]:
    """Seconds for build + JSON render, ``repeats`` times: first, median, all."""
    seconds = []
    size = 0
    for _ in range(repeats):
        with Clock() as clock:
            report = build_weekly(store, plan, list(sources), week=week)
            size = len(render(report, "json"))
        seconds.append(clock.wall)
    return {"median_s": round(median(seconds), 3), "first_s": round(seconds[0], 3),
            "runs_s": [round(s, 3) for s in seconds], "json_bytes": size}


def report_corpus(ws: Workspace) -> list[Row]:
    path: Path = ws.corpus_store()
    store = SQLiteStore(path)
    week, count = busiest_week(store)
    timing = time_weekly(store, ws.plan, ws.sources, week)
    total = store.count()
    store.close()
    figure = timing["median_s"]
    return [Row("weekly report", f"busiest week {week} ({count:,} items) of the "
                f"{total:,}-item store, JSON", figure, "s", None, "",
                f"≤ {REPORT_TARGET_S:g} s", figure <= REPORT_TARGET_S, timing,
                command="python -m bench --only report")]
