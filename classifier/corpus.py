"""The labelled corpus: loading ``classifier/data/*.jsonl``, people's feedback, the fixed split.

The held-out test split is decided by a stable hash of each item's id (20%),
never by file, so an item stays on the same side however the files grow and
whoever trains; training never sees it. Feedback turns into labelled items
too: a confirmed or added tag is a positive, a rejected tag or a dismissed label
a negative, for that label only (the item's other labels stay unknown and are not
learned from).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from dophu.config import Plan
from dophu.dates import DateParseError, parse_datetime
from dophu.models import Feedback, Item
from dophu.text import normalize_text

DATA_DIR = Path(__file__).resolve().parent / "data"
TEST_PERCENT = 20
FORMS = ("newspaper", "portal", "broadcaster", "social", "real", "feedback")


class CorpusError(ValueError):
    """A labelled line is wrong; ``str()`` names the file, the line and what is wrong."""

    def __init__(self, path: str | Path, line: int, message: str):
        self.path, self.line, self.message = str(path), line, message
        super().__init__(f"{Path(path).name}:{line}: {message}")


@dataclass(frozen=True)
class LabelledItem:
    """One item with its gold labels (``known`` limits which labels are known: feedback)."""

    id: str
    title: str
    text: str
    published_at: datetime | None
    themes: frozenset[str]
    anniversaries: frozenset[str]
    form: str = "newspaper"
    source_file: str = ""
    line: int = 0
    known: frozenset[str] | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def labels(self) -> frozenset[str]:
        return self.themes | self.anniversaries

    @property
    def relevant(self) -> bool:
        return bool(self.themes or self.anniversaries)

    @property
    def split(self) -> str:
        return split_of(self.id)

    def knows(self, label: str) -> bool:
        return self.known is None or label in self.known


def split_of(item_id: str) -> str:
    """"test" for the fixed 20% held out by a hash of the id, else "train"."""
    bucket = int(hashlib.sha256(item_id.encode("utf-8")).hexdigest()[:8], 16) % 100
    return "test" if bucket < TEST_PERCENT else "train"


def _labels(value: Any, name: str, known: set[str]) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name}: expected a list of ids")
    unknown = sorted(set(value) - known)
    if unknown:
        raise ValueError(f"{name}: unknown id(s) {', '.join(unknown)} (not in the plan)")
    return frozenset(value)


def parse_record(record: Any, plan: Plan, path: str | Path = "", line: int = 0) -> LabelledItem:
    """A JSON object of the corpus format → LabelledItem (CorpusError naming the line)."""
    try:
        if not isinstance(record, dict):
            raise ValueError("expected a JSON object")
        item_id = record.get("id")
        if not isinstance(item_id, str) or not item_id.strip():
            raise ValueError("id: required (a non-empty string)")
        title, text = record.get("title") or "", record.get("text") or ""
        if not isinstance(title, str) or not isinstance(text, str):
            raise ValueError("title/text: expected strings")
        if not (title.strip() or text.strip()):
            raise ValueError("title and text are both empty")
        try:
            published_at = parse_datetime(record.get("published_at"))
        except DateParseError as exc:
            raise ValueError(f"published_at: {exc}") from None
        themes = _labels(record.get("themes"), "themes", set(plan.label_ids("theme")))
        anniversaries = _labels(record.get("anniversaries"), "anniversaries",
                                set(plan.label_ids("anniversary")))
    except ValueError as exc:
        raise CorpusError(path, line, str(exc)) from None
    known_keys = {"id", "title", "text", "published_at", "themes", "anniversaries", "form",
                  "note"}
    return LabelledItem(
        id=item_id.strip(), title=normalize_text(title, multiline=False),
        text=normalize_text(text), published_at=published_at, themes=themes,
        anniversaries=anniversaries, form=str(record.get("form") or "newspaper"),
        source_file=Path(path).name if path else "", line=line,
        note=str(record.get("note") or ""),
        extra={k: v for k, v in record.items() if k not in known_keys})


def read_jsonl(path: Path, plan: Plan) -> tuple[list[LabelledItem], list[CorpusError]]:
    """Every good line of one file, and an error for each bad one (nothing is guessed)."""
    items: list[LabelledItem] = []
    errors: list[CorpusError] = []
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except json.JSONDecodeError as exc:
                errors.append(CorpusError(path, number, f"not valid JSON ({exc.msg})"))
                continue
            try:
                items.append(parse_record(record, plan, path, number))
            except CorpusError as exc:
                errors.append(exc)
    return items, errors


@dataclass
class Corpus:
    """Labelled items (deduplicated by id) and the lines that could not be used."""

    items: list[LabelledItem]
    errors: list[CorpusError] = field(default_factory=list)

    def split(self, name: str) -> list[LabelledItem]:
        return [i for i in self.items if i.split == name]

    @property
    def train(self) -> list[LabelledItem]:
        return self.split("train")

    @property
    def test(self) -> list[LabelledItem]:
        return self.split("test")


def load_corpus(plan: Plan, paths: Iterable[Path] | None = None) -> Corpus:
    """Read the labelled files (default: every ``classifier/data/*.jsonl``)."""
    files = sorted(DATA_DIR.glob("*.jsonl")) if paths is None else [Path(p) for p in paths]
    items: list[LabelledItem] = []
    errors: list[CorpusError] = []
    seen: dict[str, LabelledItem] = {}
    for path in files:
        if not path.exists():
            errors.append(CorpusError(path, 0, "file not found"))
            continue
        found, bad = read_jsonl(path, plan)
        errors.extend(bad)
        for item in found:
            first = seen.get(item.id)
            if first is not None:
                errors.append(CorpusError(path, item.line, f"duplicate id {item.id!r} (first in "
                                          f"{first.source_file}:{first.line}); line ignored"))
                continue
            seen[item.id] = item
            items.append(item)
    errors.sort(key=lambda e: (e.path, e.line))
    return Corpus(items, errors)


def feedback_items(feedback: Sequence[Feedback], get_item: Any,
                   plan: Plan) -> Iterator[LabelledItem]:
    """People's corrections as partially labelled items (the latest word per tag wins)."""
    latest: dict[tuple[str, str], Feedback] = {}
    for entry in sorted(feedback, key=lambda f: (f.at, f.id or 0)):
        latest[(entry.item_id, entry.label)] = entry
    by_item: dict[str, dict[str, bool]] = {}
    labels = set(plan.label_ids("theme")) | set(plan.label_ids("anniversary"))
    for (item_id, label), entry in latest.items():
        if label in labels:
            by_item.setdefault(item_id, {})[label] = entry.action in ("confirm", "add")
    themes = set(plan.label_ids("theme"))
    for item_id in sorted(by_item):
        item: Item | None = get_item(item_id)
        if item is None:
            continue
        verdicts = by_item[item_id]
        positive = {label for label, ok in verdicts.items() if ok}
        yield LabelledItem(
            id=f"feedback:{item_id}", title=item.title, text=item.text,
            published_at=item.published_at,
            themes=frozenset(positive & themes), anniversaries=frozenset(positive - themes),
            form="feedback", known=frozenset(verdicts))


def data_hash(items: Iterable[LabelledItem]) -> str:
    """A fingerprint of the training data: ids, texts, dates and labels, order-independent."""
    digest = hashlib.sha256()
    for item in sorted(items, key=lambda i: i.id):
        known = "*" if item.known is None else ",".join(sorted(item.known))
        when = item.published_at.isoformat() if item.published_at else ""
        digest.update("\x1f".join([item.id, item.title, item.text, when,
                                   ",".join(sorted(item.labels)), known]).encode("utf-8"))
        digest.update(b"\x1e")
    return digest.hexdigest()
