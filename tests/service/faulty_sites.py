"""Local web sites that misbehave the way real ones do, one port each, for the fault tests.

* ``hang``: accepts the connection, reads the request, never answers;
* ``garbage``: random bytes labelled as HTML, on every path (the source's feed);
* ``loop``: redirects /a -> /b -> /a ... for ever;
* ``huge``: a 1 GB page streamed lazily (no Content-Length: the reader must count);
* ``bomb``: a gzip body of 1 MB that inflates to 1 GB (``Content-Encoding: gzip``).

Only loopback addresses; every handler ends when the server stops.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

GIB = 1 << 30
CHUNK = 1 << 16
KINDS = ("hang", "garbage", "loop", "huge", "bomb")


def gzip_bomb(cache: Path, inflated: int = GIB) -> bytes:
    """``inflated`` zero bytes, gzipped (about 1 MB per GB); cached on disk."""
    if cache.exists():
        return cache.read_bytes()
    buffer = io.BytesIO()
    block = bytes(1 << 20)
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9) as packer:
        for _ in range(inflated // len(block)):
            packer.write(block)
    cache.write_bytes(buffer.getvalue())
    return buffer.getvalue()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    server: _Server

    def log_message(self, *_args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        kind = self.server.kind
        self.server.hits += 1
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            getattr(self, f"_{kind}")()

    def _hang(self) -> None:
        self.server.stopping.wait(600)

    def _garbage(self) -> None:
        body = os.urandom(20_000)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _loop(self) -> None:
        self.send_response(302)
        self.send_header("Location", "/b" if self.path.startswith("/a") else "/a")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _huge(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()                      # no length: read until the connection closes
        self.wfile.write(b"<html><body>")
        block = b"<p>" + b"x" * (CHUNK - 7) + b"</p>"
        sent = 0
        while sent < GIB and not self.server.stopping.is_set():
            self.wfile.write(block)
            sent += len(block)
            self.server.bytes_sent += len(block)

    def _bomb(self) -> None:
        body = self.server.bomb
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, kind: str, bomb: bytes):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.kind = kind
        self.bomb = bomb
        self.stopping = threading.Event()
        self.hits = 0
        self.bytes_sent = 0


class FaultySites:
    """``with FaultySites(tmp) as sites: sites.url("hang")``."""

    def __init__(self, cache_dir: Path, kinds: tuple[str, ...] = KINDS):
        bomb = gzip_bomb(cache_dir / "bomb.gz") if "bomb" in kinds else b""
        self.servers = {kind: _Server(kind, bomb) for kind in kinds}
        self.threads: list[threading.Thread] = []

    def url(self, kind: str) -> str:
        return f"http://127.0.0.1:{self.servers[kind].server_address[1]}/"

    def server(self, kind: str) -> _Server:
        return self.servers[kind]

    def sources(self) -> Iterator[dict[str, object]]:
        for kind in self.servers:
            source: dict[str, object] = {"id": f"faulty-{kind}", "name": f"Faulty {kind}",
                                         "unit": "so-tttt", "kind": "portal", "interval": "1h"}
            if kind == "garbage":              # a configured feed that answers junk
                source["feeds"] = [self.url(kind) + "feed.rss"]
            else:
                source["home"] = self.url(kind)
            yield source

    def __enter__(self) -> FaultySites:
        for server in self.servers.values():
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                      daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def __exit__(self, *_exc: object) -> None:
        for server in self.servers.values():
            server.stopping.set()
            server.shutdown()
            server.server_close()
