"""The API inside the service: uvicorn in a thread of the same process.

The app is built by ``api.app.create_app(context)``; when the service loads a new good
config the app is rebuilt and swapped in, so pages show the new sources and plan.
``/healthz`` gets a ``service`` key: the scheduler's view (config in use and its last
error, last crawl pass, last weekly report).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from dophu.context import Context

log = logging.getLogger("dophu.web")

Scope = dict[str, Any]
Message = dict[str, Any]


class ServiceApp:
    """An ASGI app that forwards to the current API app and adds the service's health."""

    def __init__(self, build: Callable[[Context], Any], context: Context,
                 health: Callable[[], dict[str, Any]]):
        self.build = build
        self.health = health
        self.app = build(context)

    def swap(self, context: Context) -> None:
        """The API for a newly loaded config (the old one keeps serving if this fails)."""
        self.app = self.build(context)
        log.info("web app rebuilt for the new config")

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        app = self.app
        if scope.get("type") != "http" or scope.get("path") != "/healthz":
            await app(scope, receive, send)
            return
        start: Message = {}
        body = bytearray()

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))

        await app(scope, receive, capture)
        payload = bytes(body)
        try:
            document = json.loads(payload)
            if isinstance(document, dict):
                document["service"] = self.health()
                payload = json.dumps(document, ensure_ascii=False, default=str).encode()
        except (ValueError, TypeError):
            pass
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": start.get("status", 500),
                    "headers": headers})
        await send({"type": "http.response.body", "body": payload})


class WebServer:
    """uvicorn serving ``app`` from a thread; ``stop()`` asks it to finish."""

    def __init__(self, app: Any, host: str, port: int):
        import uvicorn

        config = uvicorn.Config(app, host=host, port=port, log_config=None, lifespan="off",
                                server_header=False, access_log=False)
        self.server = uvicorn.Server(config)
        self.host, self.port = host, port
        self.thread = threading.Thread(target=self._serve, name="web", daemon=True)
        self.error: BaseException | None = None

    def _serve(self) -> None:
        try:
            self.server.run()
        except BaseException as exc:  # noqa: BLE001 - reported by the service's main loop
            self.error = exc
        finally:
            if not self.server.started and self.error is None:
                self.error = OSError(f"cannot listen on {self.host}:{self.port}")

    def start(self, timeout: float = 30.0) -> None:
        self.thread.start()
        waited = 0.0
        while not self.server.started and self.thread.is_alive() and waited < timeout:
            self.thread.join(0.05)
            waited += 0.05
        if not self.server.started:
            raise OSError(f"the web server did not start on {self.host}:{self.port}"
                          + (f": {self.error}" if self.error else ""))

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def build_api(context: Context) -> Any:
    from api.app import create_app

    return create_app(context)


__all__ = ["ServiceApp", "WebServer", "build_api"]
