"""Operational settings (``config/settings.yaml``): crawl politeness, API tokens, schedule.

Each section belongs to one area; a missing file or section means the defaults.
Secrets (API tokens) may also come from the environment, never from the repo.
"""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dophu.config import ConfigError, _load_yaml, _validate


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CrawlSettings(_Section):
    user_agent: str = "dophu/0.1 (+https://github.com/dophu/dophu; coverage monitoring)"
    contact_url: str = "https://github.com/dophu/dophu"
    download_delay: float = Field(default=1.0, ge=0)
    concurrency_per_host: int = Field(default=2, ge=1, le=8)
    concurrency_total: int = Field(default=16, ge=1, le=256)
    autothrottle: bool = True
    timeout_seconds: float = Field(default=30, gt=0)
    retries: int = Field(default=2, ge=0, le=10)
    max_page_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    listing_depth: int = Field(default=3, ge=0, le=50)
    max_items_per_source: int = Field(default=500, ge=1)
    obey_robots: bool = True
    rediscover_after_failures: int = Field(default=3, ge=1)
    pass_time_limit_seconds: int = Field(default=1800, gt=0)
    # Added with the crawler (all optional, defaults shown):
    retry_backoff_seconds: float = Field(default=2.0, ge=0)      # doubles on each retry
    max_retry_after_seconds: float = Field(default=300, ge=0)    # a longer Retry-After: retry later
    store_batch_size: int = Field(default=50, ge=1, le=5000)
    near_duplicate_threshold: float = Field(default=0.8, ge=0.5, le=1.0)
    near_duplicate_window_days: int = Field(default=60, ge=1)
    max_url_errors: int = Field(default=5, ge=1)                 # then a failing page is left
    max_discovered_feeds: int = Field(default=30, ge=1)
    sitemap_children: int = Field(default=5, ge=1)               # newest child sitemaps read
    home_as_listing: bool = True       # read the home page's article links too (feeds are partial)
    tag_in_child_process: bool = True  # a forked child loads the model and tags (2 cores)
    log_level: str = "WARNING"


class ApiSettings(_Section):
    tokens: dict[str, str] = Field(default_factory=dict)   # name -> token
    read_requires_token: bool = False
    cors_origins: list[str] = Field(default_factory=list)
    max_page_size: int = Field(default=100, ge=1, le=200)


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
REPORT_FORMATS = ("html", "xlsx", "md", "json")


class ServiceSettings(_Section):
    """``dophu run``: when the weekly report is written, how crawl passes are cut up."""

    weekly_report_day: str = "mon"
    weekly_report_time: str = "07:00"
    timezone: str = "Asia/Ho_Chi_Minh"
    report_formats: list[str] = Field(default_factory=lambda: list(REPORT_FORMATS))
    report_catch_up_weeks: int = Field(default=4, ge=1, le=52)   # missed weeks written on start
    jitter_seconds: int = Field(default=120, ge=0)
    tick_seconds: int = Field(default=30, ge=1, le=3600)         # how often "what is due?" runs
    config_check_seconds: int = Field(default=15, ge=1, le=3600)
    crawl_group_size: int = Field(default=4, ge=1, le=100)       # sources per crawl subprocess
    crawl_kill_grace_seconds: int = Field(default=60, ge=1)      # past pass_time_limit_seconds

    @field_validator("weekly_report_day")
    @classmethod
    def _day(cls, value: str) -> str:
        day = value.strip().lower()[:3]
        if day not in WEEKDAYS:
            raise ValueError(f"not a weekday (one of {', '.join(WEEKDAYS)}): {value!r}")
        return day

    @field_validator("weekly_report_time")
    @classmethod
    def _time(cls, value: str) -> str:
        match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", str(value))
        if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            raise ValueError(f"not a time of day like 07:00: {value!r}")
        return f"{int(match.group(1)):02d}:{match.group(2)}"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone: {value!r}") from None
        return value

    @field_validator("report_formats")
    @classmethod
    def _formats(cls, value: list[str]) -> list[str]:
        unknown = [f for f in value if f not in REPORT_FORMATS]
        if unknown or not value:
            raise ValueError(f"formats must be some of {', '.join(REPORT_FORMATS)}: {value!r}")
        return list(dict.fromkeys(value))


class Settings(_Section):
    crawl: CrawlSettings = Field(default_factory=CrawlSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    service: ServiceSettings = Field(default_factory=ServiceSettings)


def load_settings(config_dir: str | Path) -> Settings:
    path = Path(config_dir) / "settings.yaml"
    if not path.exists():
        return Settings()
    data, root = _load_yaml(path)
    if data is None:
        return Settings()
    return _validate(Settings, data, path, root)


__all__ = ["ApiSettings", "ConfigError", "CrawlSettings", "ServiceSettings", "Settings",
           "load_settings"]
