"""Logs on stderr: a plain line for a person, one JSON object per line for a machine.

``dophu --log-json ...`` or ``DOPHU_LOG_FORMAT=json`` chooses JSON lines; the level is
``DOPHU_LOG_LEVEL`` (default INFO). Every record's extra fields are kept: a crawl line
carries ``source`` and ``url``. How the other areas use it:

    from dophu.logs import source_log
    log = source_log(logging.getLogger(__name__), source.id)
    log.warning("fetch failed: %s", reason, extra={"url": url})   # source and url in the line

A process that installs its own root handler (Scrapy's ``CrawlerProcess`` does) keeps
it for its own loggers; pass :func:`scrapy_process_kwargs` to ``CrawlerProcess`` to send
Scrapy's lines through dophu's handler (JSON included) instead.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Iterable, Mapping, MutableMapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

LOG_FORMAT_ENV = "DOPHU_LOG_FORMAT"
LOG_LEVEL_ENV = "DOPHU_LOG_LEVEL"
# Libraries that say too much at INFO for a service log.
QUIET_LOGGERS = ("apscheduler", "httpx", "httpcore", "urllib3", "filelock", "matplotlib",
                 "asyncio", "multipart", "PIL", "numba")
FIELD_ORDER = ("source", "url")
_URL = re.compile(r"https?://[^\s<>\"')\]]+")
# Scrapy's own line: "2025-05-05 07:00:01 [scrapy.core.engine] ERROR: message"
_SCRAPY_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[([^\]]+)\] ([A-Z]+): (.*)$", re.S)
_RECORD_KEYS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "taskName", "color_message"}


def json_wanted(flag: bool | None = None) -> bool:
    """JSON lines when asked on the command line or by ``DOPHU_LOG_FORMAT=json``."""
    if flag:
        return True
    return os.environ.get(LOG_FORMAT_ENV, "").strip().lower() == "json"


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The extra fields a caller attached (``extra={...}`` or a :class:`SourceLog`)."""
    fields = {k: v for k, v in vars(record).items()
              if k not in _RECORD_KEYS and not k.startswith("_")}
    ordered = {k: fields.pop(k) for k in FIELD_ORDER if k in fields}
    return {**ordered, **fields}


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg", ...extra fields, "exc"?}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record_fields(record).items():
            payload.setdefault(key, value)
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``2025-05-05 07:00:01 INFO dophu.scheduler: message [source=x url=y]`` (local time)."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).astimezone().strftime("%Y-%m-%d %H:%M:%S")
        first, _, rest = record.getMessage().partition("\n")
        line = f"{when} {record.levelname} {record.name}: {first}"
        fields = record_fields(record)
        if fields:          # on the first line, so a grep for source=... finds the record
            line += " [" + " ".join(f"{k}={_plain(v)}" for k, v in fields.items()) + "]"
        if rest:
            line += "\n" + rest
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _plain(value: Any) -> str:
    if isinstance(value, list | tuple | set):
        value = ",".join(str(v) for v in value)
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                           default=str)
    return text if text and " " not in text else json.dumps(text, ensure_ascii=False)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is now (a test runner may swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


class _LeaveToOwnHandler(logging.Filter):
    """Scrapy logs through its own root handler when it installed one: no line twice."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(("scrapy", "twisted", "py.warnings")):
            return True
        scrapy_log = sys.modules.get("scrapy.utils.log")
        return scrapy_log is None or getattr(scrapy_log, "_scrapy_root_handler", None) is None


def setup_logging(json_format: bool | None = None, level: str | int | None = None) -> None:
    """Installs dophu's one stderr handler on the root logger (again: replaces it)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_dophu", False):
            root.removeHandler(handler)
    handler = StderrHandler()
    handler._dophu = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if json_wanted(json_format) else TextFormatter())
    handler.addFilter(_LeaveToOwnHandler())
    chosen = level if level is not None else os.environ.get(LOG_LEVEL_ENV, "INFO")
    handler.setLevel(chosen.upper() if isinstance(chosen, str) else chosen)
    root.addHandler(handler)
    if root.level > handler.level or root.level == logging.NOTSET:
        root.setLevel(handler.level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


class SourceLog(logging.LoggerAdapter):
    """A logger whose every line names the source (and the URL, when given)."""

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, Any]:
        kwargs["extra"] = {**(self.extra or {}), **(kwargs.get("extra") or {})}
        return msg, kwargs


def source_log(logger: logging.Logger, source: str, url: str | None = None) -> SourceLog:
    extra: dict[str, Any] = {"source": source}
    if url:
        extra["url"] = url
    return SourceLog(logger, extra)


def scrapy_process_kwargs() -> dict[str, Any]:
    """``CrawlerProcess(settings, **scrapy_process_kwargs())``: dophu's handler for Scrapy's
    lines when dophu's logging is set up, Scrapy's own otherwise."""
    ours = any(getattr(h, "_dophu", False) for h in logging.getLogger().handlers)
    return {"install_root_handler": not ours}


class SourceMatcher:
    """Finds the source of a URL by its host (and port): for lines that name only a URL."""

    def __init__(self, sources: Iterable[Any]):
        self.by_host: dict[str, str] = {}
        for source in sources:
            for url in [source.home or "", *source.feeds, *source.sitemaps, *source.listings]:
                host = urlsplit(url).netloc.lower()
                if host:
                    self.by_host.setdefault(host, source.id)

    def source_of(self, url: str) -> str | None:
        host = urlsplit(url).netloc.lower()
        if host in self.by_host:
            return self.by_host[host]
        bare = host.removeprefix("www.")
        return next((sid for h, sid in self.by_host.items()
                     if h.removeprefix("www.") == bare), None)


def fields_of_line(line: str, matcher: SourceMatcher | None = None,
                   default_source: str | None = None) -> dict[str, Any]:
    """A child process's stderr line as log fields: its JSON as is, else ``msg`` plus the URL
    it names and that URL's source (``default_source`` when no URL says otherwise)."""
    line = line.rstrip("\n")
    parsed: Mapping[str, Any] | None = None
    if line.startswith("{"):
        try:
            value = json.loads(line)
            parsed = value if isinstance(value, dict) else None
        except json.JSONDecodeError:
            parsed = None
    fields: dict[str, Any] = dict(parsed) if parsed is not None else {"msg": line}
    scrapy_line = _SCRAPY_LINE.match(line) if parsed is None else None
    if scrapy_line:
        fields = {"msg": scrapy_line.group(3), "level": scrapy_line.group(2).lower(),
                  "logger": scrapy_line.group(1)}
    message = str(fields.get("msg", ""))
    if "url" not in fields:
        found = _URL.search(message)
        if found:
            fields["url"] = found.group(0).rstrip(".,;>")
    if "source" not in fields:
        source = None
        if matcher is not None and fields.get("url"):
            source = matcher.source_of(str(fields["url"]))
        if source or default_source:
            fields["source"] = source or default_source
    return fields


def starts_record(line: str) -> bool:
    """A child's stderr line that begins a log record (not a traceback's next line)."""
    return line.startswith("{") or bool(_SCRAPY_LINE.match(line))


def level_of_line(fields: Mapping[str, Any]) -> int:
    """A relayed line's level: its own, else what the words say (Scrapy's "ERROR:")."""
    level = fields.get("level")
    if isinstance(level, str) and level.upper() in logging.getLevelNamesMapping():
        return logging.getLevelNamesMapping()[level.upper()]
    message = str(fields.get("msg", ""))
    for name in ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"):
        if f"] {name}:" in message or message.startswith(f"{name}:"):
            return logging.getLevelNamesMapping()[name]
    if "Traceback" in message or "Error" in message:
        return logging.WARNING
    return logging.INFO


__all__ = ["JsonFormatter", "SourceLog", "SourceMatcher", "StderrHandler", "TextFormatter",
           "fields_of_line", "json_wanted", "level_of_line", "record_fields",
           "scrapy_process_kwargs", "setup_logging", "source_log", "starts_record"]
