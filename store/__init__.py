"""Where items live: one Store interface, an embedded SQLite backend and Elasticsearch."""

from __future__ import annotations

import os
from pathlib import Path

from store.base import (
    CoverageQuery,
    CoverageRow,
    Filters,
    QueryError,
    SearchQuery,
    SearchResult,
    Store,
    StoreError,
    UpsertResult,
)

__all__ = ["CoverageQuery", "CoverageRow", "Filters", "QueryError", "SearchQuery",
           "SearchResult", "Store", "StoreError", "UpsertResult", "open_store"]

STORE_FILENAME = "dophu.sqlite3"


def open_store(data_dir: str | Path, *, readonly: bool = False,
               elasticsearch_url: str | None = None) -> Store:
    """The configured store: Elasticsearch when ``ELASTICSEARCH_URL`` is set, else SQLite."""
    url = elasticsearch_url if elasticsearch_url is not None else os.environ.get(
        "ELASTICSEARCH_URL")
    if url:
        from store.elastic import ElasticStore  # imported only when asked for
        from store.spool import SPOOL_FILENAME, SpoolingStore

        remote = ElasticStore(url, api_key=os.environ.get("ELASTICSEARCH_API_KEY") or None)
        # writers keep items in a local spool while the cluster is down (store/spool.py)
        return remote if readonly else SpoolingStore(remote, Path(data_dir) / SPOOL_FILENAME)
    from store.sqlite import SQLiteStore

    return SQLiteStore(Path(data_dir) / STORE_FILENAME, readonly=readonly)
