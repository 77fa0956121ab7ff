"""The configuration a running service uses: reloaded when its files change, kept when
the new files are wrong.

A good config is copied to ``<data>/service/config/`` (the active plan as
``plan.yaml``, ``sources.yaml``, ``settings.yaml``); crawl subprocesses read that
copy, so a half-edited ``sources.yaml`` never reaches them. A bad edit is logged,
kept as ``error`` (shown by ``dophu status`` and ``/healthz``) and the last good
config stays in use until the files are fixed. A service that starts on bad files
uses the copy its last run left, when there is one.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dophu.config import ConfigError, find_plan_file
from dophu.context import Context
from dophu.files import fsync_dir

log = logging.getLogger("dophu.config")

SNAPSHOT_DIRNAME = "config"


class NoGoodConfig(ConfigError):
    """The config files are wrong and no earlier good copy exists."""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConfigError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def load_context(config_dir: Path, data_dir: Path) -> Context:
    """A context whose plan, sources and settings all load (raises the first error)."""
    context = Context(config_dir=Path(config_dir), data_dir=Path(data_dir))
    _ = context.plan, context.sources, context.settings
    return context


class LiveConfig:
    """The last good config of ``config_dir``; ``check()`` picks up edits."""

    def __init__(self, config_dir: Path, data_dir: Path):
        self.config_dir = Path(config_dir)
        self.data_dir = Path(data_dir)
        self.snapshot_dir = self.data_dir / "service" / SNAPSHOT_DIRNAME
        self.current: Context | None = None
        self.error: str | None = None
        self.error_since: datetime | None = None
        self.loaded_at: datetime | None = None
        self.source_dir: Path | None = None      # where the config in use was read
        self._fingerprint: tuple[Any, ...] | None = None
        self._lock = threading.RLock()

    # ------------------------------------------------------------ files
    def watched_files(self) -> list[Path]:
        base = self.config_dir
        files = [base / "plan.yaml", base / "active_plan", base / "sources.yaml",
                 base / "settings.yaml"]
        plans = base / "plans"
        if plans.is_dir():
            files += sorted(plans.glob("*.yaml"))
        return files

    def fingerprint(self) -> tuple[Any, ...]:
        marks = []
        for path in self.watched_files():
            try:
                st = path.stat()
                marks.append((str(path), st.st_mtime_ns, st.st_size))
            except OSError:
                marks.append((str(path), None, None))
        return tuple(marks)

    # ------------------------------------------------------------ loading
    def load_initial(self) -> Context:
        """The config to start with: the files, else the copy the last run left."""
        with self._lock:
            self._fingerprint = self.fingerprint()
            try:
                context = load_context(self.config_dir, self.data_dir)
            except Exception as exc:  # noqa: BLE001 - any unreadable config is the same case
                message = _describe(exc)
                if not (self.snapshot_dir / "sources.yaml").exists():
                    if isinstance(exc, ConfigError):
                        raise
                    raise NoGoodConfig(self.config_dir, None, "", message) from exc
                context = load_context(self.snapshot_dir, self.data_dir)
                self._set_error(message)
                log.error("config error: %s; using the last good config (%s)", message,
                          self.snapshot_dir, extra={"config_error": message})
                self._use(context, self.snapshot_dir, snapshot=False)
                return context
            self._use(context, self.config_dir)
            return context

    def check(self) -> bool:
        """Reloads after an edit; True when a new good config is now in use."""
        with self._lock:
            mark = self.fingerprint()
            if mark == self._fingerprint:
                return False
            self._fingerprint = mark
            try:
                context = load_context(self.config_dir, self.data_dir)
            except Exception as exc:  # noqa: BLE001 - keep the last good config
                message = _describe(exc)
                if message != self.error:
                    log.error("config error: %s; still using the config loaded at %s",
                              message, self.loaded_at.isoformat() if self.loaded_at else "?",
                              extra={"config_error": message})
                self._set_error(message)
                return False
            if self.current is not None and "store" in self.current.__dict__:
                context.store = self.current.store        # one store per service
            self._use(context, self.config_dir)
            log.info("config reloaded: plan %s, %d sources", context.plan.id,
                     len(context.sources))
            return True

    def _set_error(self, message: str) -> None:
        if self.error is None:
            self.error_since = datetime.now(UTC)
        self.error = message

    def _use(self, context: Context, source_dir: Path, *, snapshot: bool = True) -> None:
        if snapshot:
            self.write_snapshot(context)
        self.current = context
        self.source_dir = source_dir
        self.loaded_at = datetime.now(UTC)
        if source_dir == self.config_dir:
            self.error = None
            self.error_since = None

    # ------------------------------------------------------------ the copy
    def write_snapshot(self, context: Context) -> Path:
        """Copies the loaded files to ``<data>/service/config`` (whole or not at all)."""
        parent = self.snapshot_dir.parent
        parent.mkdir(parents=True, exist_ok=True)
        fresh = parent / f".{SNAPSHOT_DIRNAME}.new-{os.getpid()}"
        old = parent / f".{SNAPSHOT_DIRNAME}.old-{os.getpid()}"
        shutil.rmtree(fresh, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
        fresh.mkdir()
        shutil.copy2(find_plan_file(context.config_dir), fresh / "plan.yaml")
        for name in ("sources.yaml", "settings.yaml"):
            if (context.config_dir / name).exists():
                shutil.copy2(context.config_dir / name, fresh / name)
        if not (fresh / "sources.yaml").exists():
            (fresh / "sources.yaml").write_text("sources: []\n", encoding="utf-8")
        if self.snapshot_dir.exists():
            self.snapshot_dir.rename(old)
        fresh.rename(self.snapshot_dir)
        fsync_dir(parent)
        shutil.rmtree(old, ignore_errors=True)
        return self.snapshot_dir

    @property
    def crawl_config_dir(self) -> Path:
        """What crawl subprocesses get as ``--config``: the copy of the config in use."""
        return self.snapshot_dir

    def status(self) -> dict[str, Any]:
        context = self.current
        return {
            "ok": self.error is None,
            "error": self.error,
            "error_since": self.error_since.isoformat() if self.error_since else None,
            "loaded_at": self.loaded_at.isoformat() if self.loaded_at else None,
            "config_dir": str(self.config_dir),
            "in_use": str(self.source_dir) if self.source_dir else None,
            "plan": context.plan.id if context is not None else None,
            "sources": len(context.sources) if context is not None else None,
        }


__all__ = ["LiveConfig", "NoGoodConfig", "load_context"]
