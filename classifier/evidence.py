"""Why a tag was given, in words a person can check: phrases, the model's terms, the
labelled items most like the document, the date.

Phrases are quoted as they appear in the text. The model's strongest terms
are the features that pushed this label's score up most in this document,
quoted from the document too (the model itself only sees folded words).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from classifier.engine import Prepared
from classifier.features import MODEL_WORDS, NEGATIVE_MARKER
from classifier.neighbours import Precedent
from classifier.normalize import Document

MODEL_TERMS = 3


def find_words(doc: Document, words: list[str], within_title: bool = False,
               haystack: list[str] | None = None) -> str | None:
    """The first place ``words`` occur in ``doc``, quoted as written. They are compared
    with the folded words unless ``haystack`` gives the words to compare with."""
    haystack = doc.words if haystack is None else haystack
    limit = doc.title_token_count if within_title else len(haystack)
    size = len(words)
    for start in range(0, limit - size + 1):
        if haystack[start:start + size] == words:
            return doc.span_text(start, start + size - 1)
    return None


def model_terms(doc: Document, row: tuple[np.ndarray, np.ndarray], weights: np.ndarray,
                feature_names: list[str], limit: int = MODEL_TERMS) -> list[str]:
    """The document's words that raised the label's model score most."""
    indexes, values = row
    if not len(indexes):
        return []
    contributions = values * weights[indexes]
    order = np.argsort(-contributions)
    quotes: list[str] = []
    seen: set[str] = set()
    as_written: list[str] | None = None
    for position in order:
        if contributions[position] <= 0 or len(quotes) >= limit:
            break
        name = feature_names[indexes[position]]
        if name.startswith(("w:", "c:")):
            continue  # segmentation and character features have no clean quote
        within_title, haystack = name.startswith("t:"), None
        if name.startswith("m:"):   # words as written, diacritics and all
            if as_written is None:
                as_written = doc.marked_words(MODEL_WORDS)
            haystack = as_written
        if name.startswith(("t:", "m:")):
            name = name[2:]
        words = name.split(" ")
        if NEGATIVE_MARKER in words:
            continue
        quote = (find_words(doc, words, within_title, haystack)
                 or find_words(doc, words, False, haystack))
        if quote is None:
            continue
        key = quote.lower()
        if key in seen or any(key in other or other in key for other in seen):
            continue
        seen.add(key)
        quotes.append(quote)
    return quotes


def precedent_evidence(precedents: Sequence[Precedent], limit: int = 80) -> str | None:
    """The precedents as one line of evidence, "tin đã gán nhãn gần nhất: 4/5 có nhãn này,
    như «...»" (None without precedents)."""
    if not precedents:
        return None
    with_label = [p for p in precedents if p.has_label]
    text = f"tin đã gán nhãn gần nhất: {len(with_label)}/{len(precedents)} có nhãn này"
    if with_label:
        title = with_label[0].title
        if len(title) > limit:
            title = title[:limit].rsplit(" ", 1)[0] + "…"
        text += f", như «{title}»"
    return text


def evidence_for(prepared: Prepared, column: int, kind: str, *, model_p: float | None,
                 row: tuple[np.ndarray, np.ndarray] | None, weights: np.ndarray | None,
                 feature_names: list[str] | None,
                 precedents: list[Precedent] | None = None) -> list[str]:
    """Evidence strings for one label on one document."""
    evidence = prepared.signals[column].quotes()
    if (model_p is not None and model_p >= 0.3 and row is not None and weights is not None
            and feature_names):
        terms = model_terms(prepared.doc, row, weights[:, column], feature_names)
        if terms:
            evidence.append(f"mô hình ({model_p:.2f}): " + ", ".join(terms))
    said = precedent_evidence(precedents or [])
    if said:
        evidence.append(said)
    if kind == "anniversary" and column in prepared.dates:
        evidence.append(prepared.dates[column].reason)
    return evidence
