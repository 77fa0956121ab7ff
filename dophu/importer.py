"""``dophu import``: items that were not crawled (a unit's exported posts, a data set).

Reads JSON Lines or CSV, builds items (normalised at the door), sends them
through the same dedup → tag → store path as crawled items. A bad row is
rejected with its line number; the good rows around it are kept.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from charset_normalizer import from_bytes
from pydantic import ValidationError

from dophu.config import Source
from dophu.dates import DateParseError, parse_datetime
from dophu.models import Item, item_id_for_content, item_id_for_url
from dophu.pipeline import ItemPipeline, ItemTagger
from dophu.urls import canonical_url, host_of
from store import Store

TEXT_FIELDS = ("text", "summary", "content", "description", "body")
DATE_FIELDS = ("published_at", "date", "published", "seen_at")
MAX_LINE_CHARS = 2_000_000


class ImportFileError(ValueError):
    """The file as a whole cannot be read (not found, not JSON Lines/CSV)."""


@dataclass
class Rejected:
    line: int
    error: str


@dataclass
class ImportReport:
    read: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    encoding: str = "utf-8"

    def as_json(self) -> dict[str, Any]:
        return {"read": self.read, "new": self.new, "updated": self.updated,
                "unchanged": self.unchanged,
                "rejected": [{"line": r.line, "error": r.error} for r in self.rejected]}


def decode_bytes(raw: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM) when it is; otherwise the detected encoding."""
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        best = from_bytes(raw).best()
        if best is None:
            raise ImportFileError("cannot tell the file's text encoding") from None
        return str(best), best.encoding


class SourceResolver:
    """Finds the configured source of a row by id, by name or by the URL's host."""

    def __init__(self, sources: list[Source]):
        self.by_id = {s.id: s for s in sources}
        self.by_name = {s.name.casefold(): s for s in sources}
        self.by_host: dict[str, Source] = {}
        for s in sources:
            for url in [s.home or "", *s.feeds]:
                if url:
                    self.by_host.setdefault(host_of(url), s)

    def resolve(self, name: str | None, url: str | None) -> Source | None:
        if name:
            found = self.by_id.get(name) or self.by_name.get(name.casefold())
            if found is None and " - " in name:
                found = self.by_name.get(name.split(" - ", 1)[0].casefold())
            if found:
                return found
        if url:
            host = host_of(url)
            while host:
                if host in self.by_host:
                    return self.by_host[host]
                host = host.partition(".")[2] if host.count(".") > 1 else ""
        return None


def iter_rows(path: Path) -> tuple[Iterator[tuple[int, dict[str, Any] | str]], str]:
    """(line number, row dict or error text) for each record in the file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ImportFileError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ImportFileError(f"{path}: is a directory") from None
    text, encoding = decode_bytes(raw)
    suffix = path.suffix.lower()
    is_csv = suffix in (".csv", ".tsv") or (
        suffix not in (".jsonl", ".ndjson", ".json") and not text.lstrip().startswith("{"))
    return (_csv_rows(text, "\t" if suffix == ".tsv" else ",") if is_csv
            else _jsonl_rows(text)), encoding


def _jsonl_rows(text: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(line) > MAX_LINE_CHARS:
            yield number, f"line is too long ({len(line)} characters)"
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, f"not valid JSON: {exc.msg} (column {exc.colno})"
            continue
        yield number, value if isinstance(value, dict) else "expected a JSON object"


def _csv_rows(text: str, delimiter: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return
    if "title" not in header and not any(f in header for f in TEXT_FIELDS):
        yield 1, "CSV header has neither 'title' nor 'text' (expected url,title,text,...)"
        return
    for cells in reader:
        number = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            yield number, f"expected {len(header)} cells, found {len(cells)}"
            continue
        yield number, dict(zip(header, cells, strict=True))


def _first(row: dict[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        value = row.get(name)
        if value not in (None, ""):
            return value
    return None


def build_item(row: dict[str, Any], resolver: SourceResolver, source_override: str | None,
               fetched_at: datetime, origin: str) -> Item:
    """One row → an Item; raises ValueError with a message naming the field."""
    url = row.get("url") or None
    if url is not None and not isinstance(url, str):
        raise ValueError("url: not a string")
    source_name = source_override or row.get("source")
    source = resolver.resolve(str(source_name) if source_name else None, url)
    if source is None:
        if source_name:
            raise ValueError(f"source: unknown source {str(source_name)[:80]!r} "
                             "(not in sources.yaml)")
        raise ValueError("source: missing (give a 'source' column or --source)")
    title = row.get("title") or ""
    text = _first(row, TEXT_FIELDS) or ""
    if not isinstance(title, str) or not isinstance(text, str):
        raise ValueError("title/text: not a string")
    if not title.strip() and not text.strip():
        raise ValueError("title and text are both empty")
    try:
        published = parse_datetime(_first(row, DATE_FIELDS))
    except DateParseError as exc:
        raise ValueError(f"published_at: {exc}") from None
    canonical = canonical_url(url) if url else None
    if canonical is not None and not canonical.startswith(("http://", "https://")):
        raise ValueError(f"url: not an http(s) URL: {url[:80]!r}")
    meta: dict[str, Any] = {"imported_from": origin}
    if row.get("category"):
        meta["section"] = str(row["category"])
    try:
        item = Item(
            id="pending", url=canonical, source=source.id, unit=source.unit, kind=source.kind,
            title=title, text=text, published_at=published, fetched_at=fetched_at, meta=meta,
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        raise ValueError(f"{'.'.join(map(str, error['loc']))}: {error['msg']}") from None
    item_id = (item_id_for_url(canonical) if canonical
               else item_id_for_content(source.id, item.title, item.text))
    return item.model_copy(update={"id": item_id})


def import_file(path: str | Path, store: Store, sources: list[Source], *,
                source_override: str | None = None, tagger: ItemTagger | None = None,
                progress: Any = None, parallel: bool = False) -> ImportReport:
    """Import one file; ``parallel`` tags in a child process while this one stores
    (``dophu.pipeline.ItemPipeline``): worth it for large files on more than one core."""
    path = Path(path)
    resolver = SourceResolver(sources)
    if source_override and source_override not in resolver.by_id:
        raise ImportFileError(f"--source: unknown source {source_override!r} "
                              "(not in sources.yaml)")
    rows, encoding = iter_rows(path)
    report = ImportReport(encoding=encoding)
    pipeline = ItemPipeline(store, tagger, parallel=parallel)
    fetched_at = datetime.now(UTC)
    for number, row in rows:
        report.read += 1
        if progress is not None:
            progress(1)
        if isinstance(row, str):
            report.rejected.append(Rejected(number, row))
            continue
        try:
            item = build_item(row, resolver, source_override, fetched_at, path.name)
        except ValueError as exc:
            report.rejected.append(Rejected(number, str(exc)))
            continue
        pipeline.process(item)
    result = pipeline.close()
    report.new, report.updated, report.unchanged = result.new, result.updated, result.unchanged
    return report
