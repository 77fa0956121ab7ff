"""Vietnamese text as the classifier reads it: one normalised copy, one folded token stream.

A document is normalised once (:func:`dophu.text.normalize_text`: NFC, modern
tone placement, tidy whitespace), then folded and lower-cased
(:func:`dophu.text.fold_lower`, which keeps offsets), then cut into word
tokens. Punctuation is dropped, numbers lose leading zeros and the i/y
spelling variants ("kỉ niệm"/"kỷ niệm", "lí"/"lý") are merged, so
"quyết tâm, quyết làm" and "quyet tam quyet lam", "02/9/1945" and "2-9-1945"
become the same token sequence. Each token keeps its span in the normalised
text so that a match is quoted as it was written.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import accumulate

from dophu.text import fold_lower, normalize_text

# Letters and digits; combining marks left over after NFC (letters without a
# precomposed form) are dropped from the folded token.
_TOKEN = re.compile(r"[^\W_]+")
_COMBINING = re.compile(r"[\u0300-\u036f]")
# A syllable ending in a lone "y" after a consonant is also written with "i".
_Y_SYLLABLE = re.compile(r"^(b|c|ch|d|đ|g|gh|h|k|kh|l|m|n|ng|nh|p|ph|qu|r|s|t|th|tr|v|x)"
                         r"([yýỳỷỹỵ])$")
_Y_TO_I = str.maketrans("yýỳỷỹỵ", "iíìỉĩị")
# Letters with a diacritic (precomposed, after NFC) and "đ".
_MARKED = re.compile(r"[À-ÃÈ-ÊÌÍÒ-ÕÙÚÝà-ãè-êìíò-õùúýĂăĐđĨĩŨũƠơƯưẠ-ỹ]")


@lru_cache(maxsize=65536)
def canonical_syllable(word: str) -> str:
    """A lower-case syllable with numbers' leading zeros and the i/y variants merged."""
    if word.isdigit():
        return word.lstrip("0") or "0"
    if not word.isascii():
        word = _COMBINING.sub("", word)
    match = _Y_SYLLABLE.match(word)
    if match:
        return match.group(1) + match.group(2).translate(_Y_TO_I)
    return word


def folded_words(text: str) -> list[str]:
    """The canonical folded words of NFC ``text`` (no positions: the fast path)."""
    return [canonical_syllable(w) for w in _TOKEN.findall(fold_lower(text))]


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """(folded canonical token, start, end) for each word of NFC ``text``."""
    return [(canonical_syllable(m.group()), m.start(), m.end())
            for m in _TOKEN.finditer(fold_lower(text))]


def marked_form(word: str) -> str:
    """A word as written, lower-cased and canonical: the strict (diacritic-aware) form."""
    return canonical_syllable(word.lower())


def normalize_phrase(phrase: str) -> tuple[str, tuple[str, ...]]:
    """A plan phrase as (folded key, marked tokens): how the matcher stores it."""
    text = normalize_text(phrase, multiline=False)
    tokens = tokenize(text)
    key = " ".join(token for token, _, _ in tokens)
    return key, tuple(marked_form(text[start:end]) for _, start, end in tokens)


# A text is "typed without diacritics" when fewer than this share of its words
# carry one (proper Vietnamese prose: about 0.8; posts typed without: 0).
UNMARKED_RATIO = 0.3


@dataclass(frozen=True)
class Document:
    """One piece of text prepared for tagging: normalised title and body, folded tokens."""

    title: str
    text: str

    @classmethod
    def from_raw(cls, title: str | None, text: str | None) -> Document:
        return cls(normalize_text(title or "", multiline=False), normalize_text(text or ""))

    @cached_property
    def full(self) -> str:
        """Title and body as one string (the title first, on its own line)."""
        if not self.title:
            return self.text
        return f"{self.title}\n{self.text}" if self.text else self.title

    @cached_property
    def words(self) -> list[str]:
        return folded_words(self.full)

    @cached_property
    def spans(self) -> list[tuple[int, int]]:
        """(start, end) of each word in :attr:`full` (computed only when a quote is needed)."""
        return [m.span() for m in _TOKEN.finditer(self.full)]

    @cached_property
    def joined(self) -> str:
        """The folded tokens joined by single spaces: what phrases are searched in."""
        return " ".join(self.words)

    @cached_property
    def token_starts(self) -> list[int]:
        """Where each token starts in :attr:`joined`."""
        if not self.words:
            return []
        return list(accumulate((len(w) + 1 for w in self.words[:-1]), initial=0))

    def token_at(self, position: int) -> int:
        """The index of the token that covers ``position`` in :attr:`joined`."""
        return bisect_right(self.token_starts, position) - 1

    @cached_property
    def written_with_marks(self) -> bool:
        """Whether the text carries diacritics (so a match must respect them)."""
        return len(_MARKED.findall(self.full)) >= UNMARKED_RATIO * max(1, len(self.words))

    @cached_property
    def title_token_count(self) -> int:
        """How many of the tokens belong to the title."""
        return len(_TOKEN.findall(self.title))

    @cached_property
    def lead_token_end(self) -> int:
        """Tokens before this index are the title and the lead (first sentences of the body)."""
        return self.title_token_count + lead_length(self.text)

    def span_text(self, first_token: int, last_token: int) -> str:
        """The words from token ``first_token`` to ``last_token`` (inclusive), as written."""
        return self.full[self.spans[first_token][0]:self.spans[last_token][1]]

    def marked_words(self, limit: int) -> list[str]:
        """The first ``limit`` words as written (lower case, canonical), aligned with
        :attr:`words`: the model reads them too when the text carries diacritics."""
        words = _TOKEN.findall(self.full.lower())
        return list(map(canonical_syllable, words[:limit]))

    def marked_token(self, index: int) -> str:
        start, end = self.spans[index]
        return marked_form(self.full[start:end])


_SENTENCE_END = re.compile(r"[.!?…]+[\"”’)»]*\s+(?=[\"“‘(«]?[A-ZĐÀ-Ỹ0-9])|\n+")
LEAD_MIN_TOKENS = 35
LEAD_MAX_TOKENS = 80


def lead_length(text: str) -> int:
    """How many tokens of the body make its lead: whole first sentences, 35 to 80 words.

    A cheap sentence cut (end punctuation + capital, or a line break) is enough
    for this; underthesea's splitter costs more than all the rest of tagging a
    short item and finds the same boundaries in news leads.
    """
    if not text:
        return 0
    count = 0
    position = 0
    for match in _SENTENCE_END.finditer(text):
        count += len(_TOKEN.findall(text, position, match.end()))
        position = match.end()
        if count >= LEAD_MIN_TOKENS:
            return min(count, LEAD_MAX_TOKENS)
    count += len(_TOKEN.findall(text, position))
    return min(count, LEAD_MAX_TOKENS)
