"""Scrapy settings, built from ``CrawlSettings`` (``config/settings.yaml``, section ``crawl``).

Politeness is configuration, not code: delay, concurrency per host, AutoThrottle,
robots.txt, timeouts, retries and the page-size limit all come from there, and
the User-Agent always names dophu and a contact URL.
"""

from __future__ import annotations

from typing import Any

from dophu.settings import CrawlSettings

BOT_NAME = "dophu"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

DOWNLOADER_MIDDLEWARES = {
    "crawlers.middlewares.HostSlotMiddleware": 40,
    "crawlers.middlewares.ConditionalGetMiddleware": 560,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawlers.middlewares.BackoffRetryMiddleware": 550,
}
ITEM_PIPELINES = {
    "crawlers.pipelines.ExactDedupPipeline": 100,
    "crawlers.pipelines.NearDedupPipeline": 200,
    "crawlers.pipelines.StorePipeline": 400,
}
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]


def user_agent(settings: CrawlSettings) -> str:
    """The configured User-Agent, with the contact URL added when it does not name it."""
    agent = settings.user_agent.strip() or "dophu"
    if "dophu" not in agent.lower():
        agent = f"{agent} dophu"
    if settings.contact_url and settings.contact_url not in agent:
        agent = f"{agent} (+{settings.contact_url})"
    return agent


def _jitter(delay: float) -> dict[str, Any]:
    """±50% random variation of the delay (the setting's name changed in Scrapy 2.14)."""
    from scrapy.settings import default_settings

    if hasattr(default_settings, "DOWNLOAD_DELAY_JITTER"):
        return {"DOWNLOAD_DELAY_JITTER": 0.5 if delay > 0 else 0}
    return {"RANDOMIZE_DOWNLOAD_DELAY": delay > 0}


def scrapy_settings(settings: CrawlSettings) -> dict[str, Any]:
    """The Scrapy settings for one crawl pass."""
    delay = settings.download_delay
    return {
        "BOT_NAME": BOT_NAME,
        "USER_AGENT": user_agent(settings),
        "ROBOTSTXT_OBEY": settings.obey_robots,
        "DOWNLOAD_DELAY": delay,
        **_jitter(delay),
        "CONCURRENT_REQUESTS": settings.concurrency_total,
        "CONCURRENT_REQUESTS_PER_DOMAIN": settings.concurrency_per_host,
        "AUTOTHROTTLE_ENABLED": settings.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(delay, 0.1),
        "AUTOTHROTTLE_MAX_DELAY": max(30.0, delay * 10),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(settings.concurrency_per_host),
        "DOWNLOAD_TIMEOUT": settings.timeout_seconds,
        "DOWNLOAD_MAXSIZE": settings.max_page_bytes,
        "DOWNLOAD_WARNSIZE": max(1, settings.max_page_bytes // 2),
        "RETRY_ENABLED": settings.retries > 0,
        "RETRY_TIMES": settings.retries,
        "RETRY_HTTP_CODES": RETRY_HTTP_CODES,
        "REDIRECT_ENABLED": True,
        "REDIRECT_MAX_TIMES": 10,
        "METAREFRESH_ENABLED": True,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "EXTENSIONS": {"scrapy.extensions.remote_control.RemoteControl": None},
        "CLOSESPIDER_TIMEOUT": settings.pass_time_limit_seconds,
        "LOG_LEVEL": settings.log_level.upper(),
        "LOG_STDOUT": False,
        "STATS_DUMP": settings.log_level.upper() in ("DEBUG", "INFO"),
        "DOWNLOADER_MIDDLEWARES": DOWNLOADER_MIDDLEWARES,
        "ITEM_PIPELINES": ITEM_PIPELINES,
        "DEFAULT_REQUEST_HEADERS": {
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,"
                      "application/rss+xml;q=0.9,application/atom+xml;q=0.9,*/*;q=0.8",
            "Accept-Language": "vi,en;q=0.5",
        },
        # dophu crawls one pass and exits; keep memory bounded, nothing on disk.
        "HTTPCACHE_ENABLED": False,
        "MEMUSAGE_ENABLED": False,
        "DNS_TIMEOUT": min(60, int(settings.timeout_seconds) + 1),
        # The crawl-specific knobs the spider and pipelines read.
        "DOPHU_CRAWL": settings.model_dump(),
    }
