"""What a person typed in the search box, parsed once for every backend.

The grammar is small and forgiving: words are ANDed, "quoted words" are a
phrase, ``-word`` excludes, ``OR`` between two parts allows either, a trailing
``*`` is a prefix. Every token is folded (no diacritics, đ→d, lower case), so
"dai hoi dang" and "Đại hội Đảng" are the same query. Anything else (FTS
operators, brackets, stray quotes) is just punctuation, never syntax.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from dophu.text import fold_lower, normalize_text
from store.base import MAX_QUERY_CHARS, MAX_QUERY_TERMS, QueryError

_WORD = re.compile(r"[^\W_]+\*?", re.UNICODE)
_PIECE = re.compile(r'(-?)"([^"]*)("?)|(\S+)')


@dataclass(frozen=True)
class Phrase:
    """Folded tokens that must appear in this order; ``prefix`` applies to the last one."""

    tokens: tuple[str, ...]
    prefix: bool = False


@dataclass
class ParsedQuery:
    clauses: list[list[Phrase]] = field(default_factory=list)   # AND of (OR of phrases)
    excluded: list[Phrase] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.clauses

    @property
    def positive_tokens(self) -> list[str]:
        """Tokens to highlight; a prefix token keeps its trailing ``*``."""
        out: list[str] = []
        for clause in self.clauses:
            for phrase in clause:
                out.extend(phrase.tokens[:-1])
                out.append(phrase.tokens[-1] + ("*" if phrase.prefix else ""))
        return out


def _phrase(text: str) -> Phrase | None:
    words = _WORD.findall(fold_lower(text))
    if not words:
        return None
    prefix = words[-1].endswith("*")
    tokens = tuple(w.rstrip("*") for w in words if w.rstrip("*"))
    return Phrase(tokens, prefix) if tokens else None


def parse_query(text: str | None) -> ParsedQuery:
    """Parse the user's words; raise :class:`QueryError` when they cannot be a query."""
    parsed = ParsedQuery()
    if text is None:
        return parsed
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"query is too long: {len(text)} characters (at most {MAX_QUERY_CHARS})")
    text = normalize_text(text, multiline=False)
    pending_or = False
    for match in _PIECE.finditer(text):
        negate, quoted, _closing, bare = match.groups()
        if bare is not None:
            if bare == "OR":
                pending_or = bool(parsed.clauses)
                continue
            negate = "-" if bare.startswith("-") and len(bare) > 1 else ""
            phrases = [_phrase(w) for w in _WORD.findall(bare.lstrip("-"))]
            if negate and phrases:
                # "-giải-phóng" excludes the whole hyphenated phrase
                phrases = [_phrase(bare.lstrip("-"))]
        else:
            phrases = [_phrase(quoted)]
        for phrase in filter(None, phrases):
            if negate:
                parsed.excluded.append(phrase)
            elif pending_or:
                parsed.clauses[-1].append(phrase)
                pending_or = False
            else:
                parsed.clauses.append([phrase])
    terms = sum(len(p.tokens) for c in parsed.clauses for p in c) + sum(
        len(p.tokens) for p in parsed.excluded)
    if terms > MAX_QUERY_TERMS:
        raise QueryError(f"query has {terms} words (at most {MAX_QUERY_TERMS})")
    if parsed.excluded and not parsed.clauses:
        raise QueryError("a query cannot only exclude words: add a word to look for")
    return parsed


# ------------------------------------------------------------------ highlights

SNIPPET_CHARS = 220


def highlight(text: str, tokens: list[str], *, whole: bool = False,
              width: int = SNIPPET_CHARS) -> str | None:
    """HTML-escaped snippet of ``text`` with matched tokens in ``<mark>``; None if none match.

    Matching is done on the folded copy; :func:`dophu.text.fold` keeps lengths,
    so spans found there mark the same characters in the original text.
    """
    if not text or not tokens:
        return None
    folded = fold_lower(text)
    alternatives = sorted(
        {re.escape(t.rstrip("*")) + (r"[^\W_]*" if t.endswith("*") else "") for t in tokens},
        key=len, reverse=True)
    pattern = re.compile(r"(?<![^\W_])(?:" + "|".join(alternatives) + r")(?![^\W_])")
    spans = [(m.start(), m.end()) for m in pattern.finditer(folded)]
    if not spans:
        return None
    if whole or len(text) <= width:
        start, end = 0, len(text)
    else:
        first = spans[0][0]
        start = max(0, first - width // 3)
        while start > 0 and not text[start - 1].isspace():
            start -= 1
        end = min(len(text), start + width)
        while end < len(text) and not text[end].isspace():
            end += 1
    out: list[str] = ["…" if start > 0 else ""]
    cursor = start
    for s, e in spans:
        if s < start or e > end:
            continue
        out.append(html.escape(text[cursor:s]))
        out.append(f"<mark>{html.escape(text[s:e])}</mark>")
        cursor = e
    out.append(html.escape(text[cursor:end]))
    out.append("…" if end < len(text) else "")
    return "".join(out)
