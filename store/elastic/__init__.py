"""The Elasticsearch backend: index design, request bodies, and the store itself."""

from store.elastic.index import IndexNames
from store.elastic.store import ElasticStore

__all__ = ["ElasticStore", "IndexNames"]
