"""Progress of a long command: a bar on a terminal, plain log lines everywhere else.

A long job takes a callable that it calls with how much it has just done; the
command line decides how that is shown::

    from dophu.progress import progress

    with progress("importing", total=rows, unit="rows") as advance:
        import_file(path, store, sources, progress=advance)   # advance(1) per row

On a terminal (stderr is a TTY, plain logs) it is a rich progress bar on stderr. Elsewhere
(cron, systemd, a pipe, ``--log-json``) it is a log line from ``dophu.progress`` every
``every_seconds`` and at each tenth of the total, and one at the end: stdout stays clean
for ``--json``.
"""

from __future__ import annotations

import logging
import sys
import time
from types import TracebackType
from typing import Any

from dophu.logs import json_wanted

log = logging.getLogger("dophu.progress")


def on_terminal() -> bool:
    """A bar is only for a person watching: stderr is a terminal and logs are not JSON."""
    try:
        return sys.stderr.isatty() and not json_wanted()
    except (AttributeError, ValueError):
        return False


class Progress:
    """Counts work done; call it with the amount just done."""

    def __init__(self, description: str, total: int | None = None, unit: str = "items", *,
                 every_seconds: float = 5.0, bar: bool | None = None,
                 fields: dict[str, Any] | None = None):
        self.description = description
        self.total = total
        self.unit = unit
        self.done = 0
        self.every_seconds = every_seconds
        self.fields = fields or {}
        self._started = time.monotonic()
        self._last_line = self._started
        self._last_tenth = 0
        self._closed = False
        self._bar: Any = None
        self._task: Any = None
        if on_terminal() if bar is None else bar:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(TextColumn("{task.description}"), BarColumn(),
                                     MofNCompleteColumn(), TextColumn(unit),
                                     TimeElapsedColumn(), TimeRemainingColumn(),
                                     console=Console(stderr=True), transient=False)
            self._bar.start()
            self._task = self._bar.add_task(description, total=total)

    def __call__(self, count: int = 1) -> None:
        self.done += count
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done)
            return
        now = time.monotonic()
        tenth = (10 * self.done // self.total) if self.total else 0
        if now - self._last_line >= self.every_seconds or tenth > self._last_tenth:
            self._last_line = now
            self._last_tenth = max(tenth, self._last_tenth)
            self._line(now)

    def set_total(self, total: int | None) -> None:
        self.total = total
        if self._bar is not None:
            self._bar.update(self._task, total=total)

    def describe(self, description: str) -> None:
        """A new label for what is being done now (a bar shows it at once)."""
        self.description = description
        if self._bar is not None:
            self._bar.update(self._task, description=description)

    def _line(self, now: float) -> None:
        elapsed = max(now - self._started, 1e-9)
        share = (f" ({100 * self.done // self.total}%)"
                 if self.total else "")
        of_total = f"/{self.total}" if self.total is not None else ""
        log.info("%s: %d%s %s%s, %.0f/s", self.description, self.done, of_total, self.unit,
                 share, self.done / elapsed,
                 extra={"task": self.description, "done": self.done, "total": self.total,
                        **self.fields})

    def close(self, *, failed: bool = False) -> None:
        if self._closed:
            return
        self._closed = True
        if self._bar is not None:
            self._bar.stop()
            return
        elapsed = time.monotonic() - self._started
        log.info("%s: %s, %d %s in %.1f s", self.description,
                 "stopped by an error" if failed else "finished", self.done, self.unit,
                 elapsed, extra={"task": self.description, "done": self.done,
                                 "total": self.total, "seconds": round(elapsed, 3),
                                 **self.fields})

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close(failed=exc is not None)


def progress(description: str, total: int | None = None, unit: str = "items", **kwargs: Any
             ) -> Progress:
    """A :class:`Progress` to use as a context manager and pass on as ``progress=``."""
    return Progress(description, total, unit, **kwargs)


def count_records(path: Any) -> int | None:
    """Non-empty lines of a file (the rows of JSON Lines or CSV, near enough for a bar)."""
    try:
        with open(path, "rb") as handle:
            return sum(1 for line in handle if line.strip())
    except OSError:
        return None


__all__ = ["Progress", "count_records", "on_terminal", "progress"]
