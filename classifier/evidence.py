"""Why a tag was given, in words a person can check: phrases, the model's terms, the date.

Phrases are quoted as they appear in the text. The model's strongest terms
are the features that pushed this label's score up most in this document,
quoted from the document too (the model itself only sees folded words).
"""

from __future__ import annotations

import numpy as np

from classifier.engine import Prepared
from classifier.features import NEGATIVE_MARKER
from classifier.normalize import Document

MODEL_TERMS = 3


def find_words(doc: Document, words: list[str], within_title: bool = False) -> str | None:
    """The first place the folded ``words`` occur in ``doc``, quoted as written."""
    limit = doc.title_token_count if within_title else len(doc.words)
    size = len(words)
    haystack = doc.words
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
    for position in order:
        if contributions[position] <= 0 or len(quotes) >= limit:
            break
        name = feature_names[indexes[position]]
        within_title = name.startswith("t:")
        if within_title:
            name = name[2:]
        elif name.startswith(("w:", "c:")):
            continue  # segmentation and character features have no clean quote
        words = name.split(" ")
        if NEGATIVE_MARKER in words:
            continue
        quote = find_words(doc, words, within_title) or find_words(doc, words)
        if quote is None:
            continue
        key = quote.lower()
        if key in seen or any(key in other or other in key for other in seen):
            continue
        seen.add(key)
        quotes.append(quote)
    return quotes


def evidence_for(prepared: Prepared, column: int, kind: str, *, model_p: float | None,
                 row: tuple[np.ndarray, np.ndarray] | None, weights: np.ndarray | None,
                 feature_names: list[str] | None) -> list[str]:
    """Evidence strings for one label on one document."""
    evidence = prepared.signals[column].quotes()
    if (model_p is not None and model_p >= 0.3 and row is not None and weights is not None
            and feature_names):
        terms = model_terms(prepared.doc, row, weights[:, column], feature_names)
        if terms:
            evidence.append(f"mô hình ({model_p:.2f}): " + ", ".join(terms))
    if kind == "anniversary" and column in prepared.dates:
        evidence.append(prepared.dates[column].reason)
    return evidence
