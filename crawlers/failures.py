"""Why a request failed, in the words ``sources list`` shows: "http 500", "timeout", ..."""

from __future__ import annotations

from scrapy import exceptions as scrapy_exceptions
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as net_error
from twisted.internet.defer import CancelledError
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived


def _scrapy_errors(*names: str) -> tuple[type[BaseException], ...]:
    """Download errors newer Scrapy versions raise (absent from older ones)."""
    return tuple(getattr(scrapy_exceptions, n) for n in names if hasattr(scrapy_exceptions, n))


_TIMEOUTS = (net_error.TimeoutError, net_error.TCPTimedOutError, TimeoutError,
             *_scrapy_errors("DownloadTimeoutError"))
_DNS = (net_error.DNSLookupError, *_scrapy_errors("CannotResolveHostError"))
_CANCELLED = (CancelledError, *_scrapy_errors("DownloadCancelledError"))
_CONNECTION = (net_error.ConnectionRefusedError, net_error.ConnectError,
               net_error.ConnectionLost, net_error.ConnectionDone, ResponseFailed,
               ResponseNeverReceived, ConnectionError,
               *_scrapy_errors("DownloadConnectionRefusedError", "DownloadFailedError",
                               "ResponseDataLossError"))


def classify(failure: Failure | BaseException) -> tuple[str, str]:
    """(kind, message) for a failed request."""
    exc = failure.value if isinstance(failure, Failure) else failure
    if isinstance(exc, HttpError):
        response = exc.response
        message = ""
        refused = response.request.meta.get("retry_after_refused") if response.request else None
        if refused:
            message = f"Retry-After {int(refused)}s is longer than allowed"
        return f"http {response.status}", message
    if isinstance(exc, IgnoreRequest):
        text = str(exc)
        if "robots" in text.lower():
            return "robots-disallowed", ""
        return "ignored", text[:200]
    if isinstance(exc, _CANCELLED) and "max size" in str(exc).lower():
        return "too large", str(exc)[:200]
    if isinstance(exc, _TIMEOUTS):
        return "timeout", ""
    if isinstance(exc, _DNS):
        return "dns", str(exc)[:200]
    if isinstance(exc, _CONNECTION):
        return "connection", type(exc).__name__
    return "error", f"{type(exc).__name__}: {exc}"[:200]
