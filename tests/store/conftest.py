"""The store fixture: every test in tests/store runs against each backend.

The embedded store always; Elasticsearch whenever ELASTICSEARCH_URL is set
(no server can run on the development machines, so it is skipped there with
that reason).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from store.base import Store

BACKENDS = ["sqlite", "elasticsearch"]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        from store.sqlite import SQLiteStore

        backend: Store = SQLiteStore(tmp_path / "store.sqlite3")
    else:
        url = os.environ.get("ELASTICSEARCH_URL")
        if not url:
            pytest.skip("ELASTICSEARCH_URL is not set: no Elasticsearch server to test against "
                        "(none can be installed on this machine)")
        from store.elastic import ElasticStore

        backend = ElasticStore(url, api_key=os.environ.get("ELASTICSEARCH_API_KEY") or None,
                               prefix=f"dophu-test-{uuid.uuid4().hex[:8]}", refresh=True)
    try:
        yield backend
    finally:
        drop = getattr(backend, "drop_all", None)
        if drop is not None and request.param != "sqlite":
            drop()
        backend.close()
