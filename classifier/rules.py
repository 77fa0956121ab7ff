"""What the plan's phrases say about one document, per label, as a score and as features.

Rule 1 of the labelling guide: a theme counts when it is a real subject, not a
passing mention. So a phrase in the title or the lead weighs more than one
mention deep in a long body, and several mentions more than one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from classifier.matcher import Match
from classifier.normalize import Document

# A text this long (in words) has a body whose passing mentions count less.
LONG_TEXT = 120
RULE_THRESHOLD = 0.5


@dataclass(frozen=True)
class RuleSignal:
    """The phrase evidence for one label in one document."""

    matches: tuple[Match, ...]
    in_lead: bool
    distinct: int

    @property
    def hit(self) -> bool:
        return bool(self.matches)

    @property
    def count(self) -> int:
        """Mentions: overlapping matches ("Đại hội Đảng bộ", "Đại hội Đảng bộ các cấp")
        at one place are one mention."""
        mentions, end = 0, -1
        for match in sorted(self.matches, key=lambda m: m.first):
            if match.first > end:
                mentions += 1
            end = max(end, match.last)
        return mentions

    def quotes(self, limit: int = 3) -> list[str]:
        """The matched phrases as written, longest first, without repeats."""
        seen: dict[str, str] = {}
        for match in sorted(self.matches, key=lambda m: (-(m.last - m.first), m.first)):
            key = match.quote.lower()
            if key not in seen and not any(key in other for other in seen):
                seen[key] = match.quote
        return list(seen.values())[:limit]


NO_SIGNAL = RuleSignal((), False, 0)


def signal_for(doc: Document, matches: list[Match] | None) -> RuleSignal:
    if not matches:
        return NO_SIGNAL
    lead_end = doc.lead_token_end
    return RuleSignal(tuple(matches), any(m.first < lead_end for m in matches),
                      len({m.phrase.text.lower() for m in matches}))


def rule_score(signal: RuleSignal, doc_length: int) -> float:
    """A score in [0, 1] from phrases alone (before any date reasoning)."""
    if not signal.hit:
        return 0.0
    count = signal.count
    if signal.in_lead:
        return 0.9 if count >= 2 else 0.8
    if count >= 3:
        return 0.75
    if count == 2:
        return 0.6
    return 0.4 if doc_length > LONG_TEXT else 0.55


# What a phrase's reliability is taken to be when training never saw it.
PRIOR_RELIABILITY = 0.5
RULE_FEATURES = 4


def rule_features(signal: RuleSignal, reliability: dict[str, float] | None = None
                  ) -> tuple[float, float, float, float]:
    """(any phrase, phrase in title/lead, log of mentions, best phrase reliability).

    A phrase's reliability is how often, in the training data, an item where it
    was found really had the label (smoothed): "kiều bào" says less than
    "50 năm Ngày giải phóng miền Nam". It is what the combiner learns rules by.
    """
    if not signal.hit:
        return 0.0, 0.0, 0.0, 0.0
    table = reliability or {}
    best = max(table.get(m.phrase.key, PRIOR_RELIABILITY) for m in signal.matches)
    return 1.0, float(signal.in_lead), math.log1p(signal.count), math.log(best / (1 - best))


def phrase_reliability(signals: list[list[RuleSignal]], truth: list[list[bool]],
                       label_ids: list[str]) -> dict[str, dict[str, float]]:
    """Per label, per phrase key: (items with the phrase and the label + 1) / (items + 2)."""
    counts: dict[str, dict[str, list[int]]] = {label: {} for label in label_ids}
    for doc_signals, doc_truth in zip(signals, truth, strict=True):
        for j, signal in enumerate(doc_signals):
            if not signal.hit:
                continue
            table = counts[label_ids[j]]
            for key in {m.phrase.key for m in signal.matches}:
                seen = table.setdefault(key, [0, 0])
                seen[0] += int(doc_truth[j])
                seen[1] += 1
    return {label: {key: (pos + 1) / (n + 2) for key, (pos, n) in table.items()}
            for label, table in counts.items()}
