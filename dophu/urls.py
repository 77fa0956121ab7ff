"""Canonical URLs: one address per article, whatever tracking a link carried."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from w3lib.url import canonicalize_url, url_query_cleaner

TRACKING_PARAMS = (
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "utm_id",
    "fbclid", "gclid", "dclid", "zarsrc", "zalo_source", "gidzl", "mc_cid", "mc_eid",
    "_ga", "ref", "refer", "share", "sharing", "from",
)


def canonical_url(url: str) -> str:
    """Lower-case host, no fragment, no tracking parameters, sorted query."""
    url = url.strip()
    parts = urlsplit(url)
    if not parts.query and not parts.fragment and url.isascii() and "%" not in url \
            and " " not in url:
        # nothing to clean or re-encode (most article URLs): skip w3lib's slower path
        return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", "", ""))
    cleaned = url_query_cleaner(url, TRACKING_PARAMS, remove=True, keep_fragments=False)
    canonical = canonicalize_url(cleaned, keep_fragments=False)
    parts = urlsplit(canonical)
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def host_of(url: str) -> str:
    """The host without a leading ``www.``: how sources and URLs are matched."""
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host
