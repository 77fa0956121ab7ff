"""The plan's phrases compiled once into one Aho-Corasick automaton over folded tokens.

Every phrase of the plan (per theme, per anniversary) and every negative
context (per label and the plan's global ``negative_contexts``) goes into a
single automaton keyed by its folded token form, so one pass over a document
finds them all, whether it was typed with diacritics or not. When the
document does carry diacritics, a match must agree with them too ("Đảng"
is not "đang"). A positive match that overlaps a negative context that
applies to its label is dropped: "giải phóng mặt bằng" is not liberation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import ahocorasick

from classifier.normalize import Document, normalize_phrase
from dophu.config import Plan

LabelKind = Literal["theme", "anniversary"]
GLOBAL = ""  # the label of the plan's global negative contexts


@dataclass(frozen=True)
class Phrase:
    """One phrase of the plan: which label it speaks for (or against)."""

    label: str
    kind: LabelKind | None
    text: str
    negative: bool
    marked: tuple[str, ...]
    key: str = ""          # the folded token form (what reliability tables are keyed by)


@dataclass(frozen=True)
class Match:
    """Where a phrase was found: token indexes (inclusive) and the words as written."""

    phrase: Phrase
    first: int
    last: int
    quote: str

    def overlaps(self, other: Match) -> bool:
        return self.first <= other.last and other.first <= self.last


@dataclass
class MatchResult:
    """Positive matches by label (after negatives), and the negatives that were found."""

    positives: dict[str, list[Match]]
    negatives: list[Match]
    suppressed: list[Match]


class PhraseMatcher:
    """Finds the plan's phrases and negative contexts in a document; immutable once built."""

    def __init__(self, plan: Plan):
        self.plan_id = plan.id
        entries: dict[str, list[Phrase]] = {}

        def add(label: str, kind: LabelKind | None, text: str, negative: bool) -> None:
            key, marked = normalize_phrase(text)
            if not key:
                return
            phrases = entries.setdefault(key, [])
            phrase = Phrase(label, kind, text, negative, marked, key)
            if not any(p.label == label and p.negative == negative and p.marked == marked
                       for p in phrases):
                phrases.append(phrase)

        for theme in plan.themes:
            for text in theme.phrases:
                add(theme.id, "theme", text, False)
            for text in theme.negative:
                add(theme.id, "theme", text, True)
        for anniversary in plan.anniversaries:
            for text in anniversary.phrases:
                add(anniversary.id, "anniversary", text, False)
            for text in anniversary.negative:
                add(anniversary.id, "anniversary", text, True)
        for text in plan.negative_contexts:
            add(GLOBAL, None, text, True)

        self.phrase_count = sum(len(v) for v in entries.values())
        self._automaton = ahocorasick.Automaton()
        for key, phrases in entries.items():
            self._automaton.add_word(key, (len(key), tuple(phrases)))
        self._automaton.make_automaton()

    def find(self, doc: Document) -> MatchResult:
        """All phrase matches in ``doc``, negatives applied."""
        joined = doc.joined
        positives: dict[str, list[Match]] = {}
        negatives: list[Match] = []
        if not joined or self.phrase_count == 0:
            return MatchResult(positives, negatives, [])
        length = len(joined)
        found: list[Match] = []
        for end, (size, phrases) in self._automaton.iter(joined):
            start = end - size + 1
            if (start > 0 and joined[start - 1] != " ") or (
                    end + 1 < length and joined[end + 1] != " "):
                continue
            first = doc.token_at(start)
            last = first + len(phrases[0].marked) - 1
            quote = doc.span_text(first, last)
            for phrase in phrases:
                if doc.written_with_marks and not _agrees(doc, first, phrase):
                    continue
                found.append(Match(phrase, first, last, quote))
        negatives = [m for m in found if m.phrase.negative]
        suppressed: list[Match] = []
        for match in found:
            if match.phrase.negative:
                continue
            if any(neg.overlaps(match) and neg.phrase.label in (GLOBAL, match.phrase.label)
                   for neg in negatives):
                suppressed.append(match)
                continue
            positives.setdefault(match.phrase.label, []).append(match)
        return MatchResult(positives, negatives, suppressed)


def _agrees(doc: Document, first: int, phrase: Phrase) -> bool:
    """The words as written carry the phrase's diacritics (case and i/y aside)."""
    return all(doc.marked_token(first + i) == token for i, token in enumerate(phrase.marked))
