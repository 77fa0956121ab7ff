"""Small pure helpers for the web pages: safe highlights, evidence marks, tag status.

Crawled text is never trusted as HTML: every piece is escaped here or by
Jinja's autoescape; only ``<mark>`` elements that we (or the store) put in
are let through.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from markupsafe import Markup, escape

from dophu.models import Feedback, Item
from dophu.text import fold
from reports.labels import fmt_datetime

_MARK_TAGS = re.compile(r"</?mark>")
_WORD_CHAR = re.compile(r"[^\W_]")


def safe_highlight(snippet: str | None) -> Markup:
    """A store highlight (escaped text with ``<mark>``) as Markup; anything else in it that
    looks like markup makes us escape the whole snippet, marks dropped."""
    if not snippet:
        return Markup("")
    bare = _MARK_TAGS.sub("", snippet)
    if "<" in bare or ">" in bare:
        return escape(bare)
    return Markup(snippet)


def safe_href(url: str | None) -> str | None:
    """Only http(s) URLs become links: never ``javascript:`` or ``data:``."""
    if url and url.strip().lower().startswith(("http://", "https://")):
        return url.strip()
    return None


def _folded(text: str) -> str | None:
    """The folded, lower-cased copy, when it keeps offsets (it does for Vietnamese)."""
    folded = fold(text).lower()
    return folded if len(folded) == len(text) else None


def evidence_spans(text: str, phrases: Iterable[str]) -> list[tuple[int, int]]:
    """Where the evidence phrases occur in ``text`` (with or without diacritics, any case),
    as merged, sorted (start, end) spans on word boundaries."""
    folded = _folded(text)
    if folded is None:
        return []
    spans: list[tuple[int, int]] = []
    for phrase in {p.strip() for p in phrases if p and p.strip()}:
        needle = fold(phrase).lower()
        if len(needle) < 2:
            continue
        start = folded.find(needle)
        while start != -1:
            end = start + len(needle)
            before_ok = start == 0 or not _WORD_CHAR.match(folded[start - 1])
            after_ok = end == len(folded) or not _WORD_CHAR.match(folded[end])
            if before_ok and after_ok:
                spans.append((start, end))
            start = folded.find(needle, start + 1)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def mark_evidence(text: str, phrases: Iterable[str]) -> Markup:
    """``text`` escaped, with each evidence phrase in ``<mark class="ev">``."""
    spans = evidence_spans(text, phrases)
    out: list[str] = []
    cursor = 0
    for start, end in spans:
        out.append(str(escape(text[cursor:start])))
        out.append(f'<mark class="ev">{escape(text[start:end])}</mark>')
        cursor = end
    out.append(str(escape(text[cursor:])))
    return Markup("".join(out))


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n") if p.strip()]


@dataclass
class TagView:
    """One tag (or a person's added label) as the item page shows it."""

    kind: str
    id: str
    name: str
    score: float | None
    evidence: list[str]
    status: str | None          # confirm | reject | add: the latest person's word on it
    status_by: str | None
    status_at: str | None


def latest_word(feedback: list[Feedback]) -> dict[tuple[str, str], Feedback]:
    """The latest feedback on each (kind, label) of an item (``feedback`` oldest first)."""
    return {(entry.label_kind, entry.label): entry for entry in feedback}


def tag_views(item: Item, feedback: list[Feedback], names: dict[tuple[str, str], str]
              ) -> list[TagView]:
    """The item's tags with the latest feedback on each, then labels people added."""
    latest = latest_word(feedback)
    views: list[TagView] = []
    seen: set[tuple[str, str]] = set()
    for kind in ("theme", "anniversary"):
        for tag in item.tags(kind):              # type: ignore[arg-type]
            key = (kind, tag.id)
            seen.add(key)
            views.append(_view(kind, tag.id, tag.score, tag.evidence, latest.get(key), names))
    for key, entry in latest.items():
        if key not in seen and entry.action == "add":
            views.append(_view(key[0], key[1], None, [], entry, names))
    return views


def _view(kind: str, label: str, score: float | None, evidence: list[str],
          entry: Feedback | None, names: dict[tuple[str, str], str]) -> TagView:
    return TagView(kind=kind, id=label, name=names.get((kind, label), label), score=score,
                   evidence=list(evidence), status=entry.action if entry else None,
                   status_by=entry.user if entry else None,
                   status_at=fmt_datetime(entry.at) if entry else None)


def heat_level(count: int, top: int) -> int:
    """0 (nothing) to 5 (the busiest cell of the table), for the heatmap's colour classes."""
    if count <= 0:
        return 0
    if top <= 1:
        return 5
    return max(1, min(5, 1 + round(4 * (count - 1) / (top - 1))))
