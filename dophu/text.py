"""Vietnamese text normalisation, done once at the door.

Every string that enters dophu (crawled, imported, typed in a query) goes
through :func:`normalize_text`; everything that compares text without
diacritics uses :func:`fold`, which keeps the string's length so that a match
found in the folded copy points at the same characters in the original.
"""

from __future__ import annotations

import re
import unicodedata

_ZERO_WIDTH_CHARS = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_ZERO_WIDTH = dict.fromkeys(map(ord, _ZERO_WIDTH_CHARS), None)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\n\s*\n\s*")

# Tone marks as combining characters, and the vowels "oa", "oe", "uy" whose tone
# the old orthography puts on the second letter ("hoà", "thuỷ") and the modern
# one on the first ("hòa", "thủy") when the syllable ends there.
_TONES = "\u0300\u0301\u0303\u0309\u0323"
# (A combining mark after the tone means the vowel carries another mark too, as
# in "hoặc": a + dot below + breve; such a syllable is not an old placement.)
_OLD_TONE = re.compile(
    r"(?<![qQgG])([oO])([aAeE])([" + _TONES + r"])(?![^\W\d_]|[\u0300-\u036f])"
    r"|(?<![qQ])([uU])([yY])([" + _TONES + r"])(?![^\W\d_]|[\u0300-\u036f])"
)


def _move_tone(match: re.Match[str]) -> str:
    if match.group(1):
        return match.group(1) + match.group(3) + match.group(2)
    return match.group(4) + match.group(6) + match.group(5)


# _OLD_TONE as it shows in NFC text: "o" + a toned plain a/e, or "u" + a toned y,
# ending the syllable ("hoà", "thuỷ", not "toàn", "quý").
_OLD_TONE_NFC = (
    r"(?<![qQgG])[oO][àáảãạèéẻẽẹÀÁẢÃẠÈÉẺẼẸ](?![^\W\d_]|[\u0300-\u036f])"
    r"|(?<![qQ])[uU][ỳýỷỹỵỲÝỶỸỴ](?![^\W\d_]|[\u0300-\u036f])")
_OLD_TONE_CANDIDATE = re.compile(_OLD_TONE_NFC)

# Anything normalize_text would change in NFC text: zero-width characters, \r, other
# whitespace than a single space or newline, runs of spaces, spaces at either end
# of a line, blank-line runs, whitespace at either end, an old tone placement.
_WHITESPACE = "\t\x0b\x0c\r\x1c-\x1f\x85\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_CHANGES = {
    True: re.compile("[" + _ZERO_WIDTH_CHARS + _WHITESPACE + "]"
                     "|  | \n|\n | \\Z|\n\n\n|\n\\Z|\\A[ \n]|" + _OLD_TONE_NFC),
    False: re.compile("[" + _ZERO_WIDTH_CHARS + "\n" + _WHITESPACE + "]"
                      "|  | \\Z|\\A |" + _OLD_TONE_NFC),
}


def normalize_tone_placement(text: str) -> str:
    """Put tone marks where the modern orthography puts them: "hoà" → "hòa"."""
    if unicodedata.is_normalized("NFC", text) and not _OLD_TONE_CANDIDATE.search(text):
        return text  # nothing to move (the common case, checked cheaply)
    decomposed = unicodedata.normalize("NFD", text)
    if not any(t in decomposed for t in _TONES):
        return text
    # Tone marks must sit right after their base letter for the pattern; NFD
    # orders a circumflex/breve/horn before the tone, which is what we want.
    moved = _OLD_TONE.sub(_move_tone, decomposed)
    return unicodedata.normalize("NFC", moved)


def normalize_text(text: str | None, *, multiline: bool = True) -> str:
    """NFC, modern tone placement, no zero-width characters, tidy whitespace."""
    if not text:
        return ""
    if unicodedata.is_normalized("NFC", text) and not _CHANGES[multiline].search(text):
        return text  # already normal: text that went through here once (the common case)
    return _normalize(text, multiline)


def _normalize(text: str, multiline: bool) -> str:
    text = unicodedata.normalize("NFC", text).translate(_ZERO_WIDTH)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = normalize_tone_placement(text)
    text = _SPACES.sub(" ", text)
    if multiline:
        text = _BLANK_LINES.sub("\n\n", text)
        text = "\n".join(line.strip() for line in text.split("\n"))
    else:
        text = " ".join(text.split())
    return text.strip()


def _build_fold_table() -> dict[int, int]:
    table: dict[int, int] = {ord("đ"): ord("d"), ord("Đ"): ord("D")}
    for code in range(0x00C0, 0x1EFA):
        char = chr(code)
        base = unicodedata.normalize("NFD", char)[0]
        if base != char and base.isascii() and base.isalpha():
            table[code] = ord(base)
    return table


_FOLD_TABLE = _build_fold_table()


def fold(text: str) -> str:
    """Remove Vietnamese diacritics and map đ→d, keeping the length (not the case).

    Expects NFC text (see :func:`normalize_text`); each precomposed letter maps
    to exactly one ASCII letter, so offsets in the result are offsets in the input.
    """
    return text.translate(_FOLD_TABLE)


def fold_lower(text: str) -> str:
    """Folded and lower-cased: the form rules and search terms are compared in."""
    return fold(text).lower()
