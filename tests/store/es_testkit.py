"""Fixtures for the server-free Elasticsearch tests: a fake cluster on a local port."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from store.elastic import ElasticStore
from tests.store.fake_es import FakeElasticsearch

FIXTURES = Path(__file__).parent / "es_fixtures"


def serve(fake: FakeElasticsearch, port: int = 0) -> HTTPServer:
    """Start an HTTP server on 127.0.0.1 that answers every request like ``fake``."""
    server = HTTPServer(host="127.0.0.1", port=port)
    server.expect_request(re.compile(".*")).respond_with_handler(fake.handle)
    server.start()
    return server


def free_port() -> int:
    """A port nothing listens on (yet)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def load_fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def fixture_names(prefix: str) -> list[str]:
    return sorted(p.stem for p in FIXTURES.glob(f"{prefix}*.json"))


class Dispatcher:
    """Hands each request to the current fake, so one server serves many tests."""

    def __init__(self) -> None:
        self.fake = FakeElasticsearch()

    def handle(self, request):  # type: ignore[no-untyped-def]
        return self.fake.handle(request)


@pytest.fixture(scope="session")
def _shared_server() -> Iterator[tuple[Dispatcher, HTTPServer]]:
    dispatcher = Dispatcher()
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request(re.compile(".*")).respond_with_handler(dispatcher.handle)
    server.start()
    yield dispatcher, server
    server.stop()


@pytest.fixture
def fake_es(_shared_server) -> tuple[FakeElasticsearch, HTTPServer]:
    """A fresh, empty fake cluster (on a server shared by the tests of a session)."""
    dispatcher, server = _shared_server
    dispatcher.fake = FakeElasticsearch()
    return dispatcher.fake, server


def elastic_on(server: HTTPServer, **kwargs: Any) -> ElasticStore:
    options = {"prefix": "dophu", "refresh": True, "bulk_backoff": 0.0, "max_retries": 1,
               "request_timeout": 5.0}
    options.update(kwargs)
    return ElasticStore(f"http://127.0.0.1:{server.port}", **options)
