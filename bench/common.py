"""Shared helpers for benchmarks: the real corpus, timing, memory, result rows, the machine."""

from __future__ import annotations

import gzip
import json
import math
import os
import platform
import resource
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
NEWS_CORPUS = SHARED_DATA / "vn-news-2025-2026.jsonl.gz"
HTML_DIR = SHARED_DATA / "html"


@dataclass
class Row:
    """One line of the benchmark table: our figure, the baseline, their ratio, the target.

    ``ratio`` is our figure over the baseline's; with ``ratio_of_time`` the figures are
    rates and the ratio is our time over the baseline's time (baseline rate / our rate).
    """

    stage: str
    workload: str
    figure: float | None
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    met: bool | None = None
    extra: dict[str, Any] | None = None
    ratio_of_time: bool = False
    command: str = ""

    @property
    def ratio(self) -> float | None:
        if self.figure is None or not self.baseline:
            return None
        return self.baseline / self.figure if self.ratio_of_time else self.figure / self.baseline

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}


@dataclass
class Curve:
    """How a cost grows with a size: points (size, cost) and the log-log slope between the
    smallest and the largest size (1 is linear, below 1 better, above 1 worse)."""

    name: str
    x_label: str
    y_label: str
    points: list[tuple[float, float]] = field(default_factory=list)

    @property
    def slope(self) -> float | None:
        usable = [(x, y) for x, y in self.points if x > 0 and y > 0]
        if len(usable) < 2:
            return None
        (x0, y0), (x1, y1) = min(usable), max(usable)
        return math.log(y1 / y0) / math.log(x1 / x0) if x1 != x0 else None

    @property
    def verdict(self) -> str:
        slope = self.slope
        if slope is None:
            return "not enough points"
        if slope < 0.8:
            return "sub-linear"
        if slope <= 1.2:
            return "about linear"
        return "worse than linear"

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "x": self.x_label, "y": self.y_label,
                "points": [list(p) for p in self.points],
                "slope": None if self.slope is None else round(self.slope, 2),
                "verdict": self.verdict}


@dataclass
class Results:
    """Everything one run measured: table rows, growth curves, notes."""

    rows: list[Row] = field(default_factory=list)
    curves: list[Curve] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        return row


def news_rows(limit: int | None = None) -> Iterator[dict[str, Any]]:
    with gzip.open(NEWS_CORPUS, "rt", encoding="utf-8") as handle:
        for line in islice(handle, limit):
            yield json.loads(line)


def timed(func: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = func()
    return time.perf_counter() - start, value


@dataclass
class Clock:
    """Wall and CPU seconds of this process over a ``with`` block."""

    wall: float = 0.0
    cpu: float = 0.0

    def __enter__(self) -> Clock:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def peak_rss_mb(children: bool = False) -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF)
    return usage.ru_maxrss / 1024


def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


def store_size_mb(path: Path) -> float:
    """The store's files on disk (database, WAL, shared memory)."""
    total = 0
    for suffix in ("", "-wal", "-shm"):
        candidate = Path(f"{path}{suffix}")
        if candidate.exists():
            total += candidate.stat().st_size
    return total / 1e6


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    """What the figures came from: they mean little without it."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 0
    memory_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {"nproc": cores, "cpu_model": cpu_model(), "memory_gb": memory_gb,
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "platform": platform.platform(), "date": datetime.now(UTC).isoformat(
                timespec="seconds"), "load_average": [round(v, 2) for v in os.getloadavg()]}
