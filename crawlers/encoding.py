"""Bytes → text for pages whose declared charset may be wrong.

Vietnamese sites still serve windows-1258 (tone marks as combining characters),
label UTF-8 pages as something else, or carry text that was decoded twice
("Viá»‡t"). The decoder trusts what the bytes prove (a BOM, valid UTF-8), then
weighs the declared charset against windows-1258 and charset-normalizer's
guesses by how Vietnamese the result reads, and lets ftfy undo mojibake.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import ftfy
from charset_normalizer import from_bytes
from ftfy.badness import is_bad
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

_VOWELS = "aăâeêioôơuưy"
_TONES = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")
VIETNAMESE_LETTERS = frozenset(
    unicodedata.normalize("NFC", base + tone)
    for vowel in _VOWELS for base in (vowel, vowel.upper()) for tone in _TONES
) | frozenset("đĐ")

_FTFY_CONFIG = ftfy.TextFixerConfig(
    unescape_html=False, uncurl_quotes=False, fix_character_width=False,
    fix_latin_ligatures=False, normalization=None, explain=False,
)


@dataclass(frozen=True)
class DecodedPage:
    text: str
    encoding: str             # the codec that produced ``text``
    declared: str | None      # what the header/meta said, if anything
    repaired: bool = False    # ftfy changed the text (mojibake undone)

    @property
    def mislabelled(self) -> bool:
        return bool(self.declared) and self.declared != self.encoding


_WORD = re.compile(r"[^\W\d_]+")
_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"
_QUALITY_MARKS = "\u0302\u0306\u031b"      # â ê ô, ă, ơ ư
TONED = frozenset(c for c in VIETNAMESE_LETTERS
                  if any(m in unicodedata.normalize("NFD", c) for m in _TONE_MARKS))
QUALITY = frozenset(c for c in VIETNAMESE_LETTERS
                    if any(m in unicodedata.normalize("NFD", c) for m in _QUALITY_MARKS))


@lru_cache(maxsize=100_000)
def _word_ok(word: str) -> bool:
    """A word Vietnamese spelling allows: its letters, one tone mark, and the tone on the
    vowel with a circumflex/breve/horn when there is one (so "phối", never "phôì")."""
    toned = [c for c in word if c in TONED]
    if len(toned) > 1 or any(not c.isascii() and c not in VIETNAMESE_LETTERS for c in word):
        return False
    if any(a.islower() and b.isupper() for a, b in zip(word, word[1:], strict=False)):
        return False
    return not (toned and toned[0] not in QUALITY and any(c in QUALITY for c in word))


@lru_cache(maxsize=10_000)
def _suspicious_char(char: str) -> bool:
    """A replacement character, a control or private-use or unassigned code point, or a
    lone combining mark (after NFC, a mark left over means it sat on nothing it fits)."""
    return char == "\ufffd" or unicodedata.category(char) in ("Cc", "Co", "Cn", "Mn")


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _letter_counts(text: str, limit: int = 200_000) -> tuple[int, int]:
    """(well-spelt Vietnamese words, weighted suspicious words and characters) in the
    first ``limit`` characters."""
    sample = unicodedata.normalize("NFC", text[:limit])
    good = bad = 0
    # Words and characters repeat: each distinct one is judged once.
    for word, count in Counter(_WORD.findall(sample)).items():
        if word.isascii():
            continue
        if _word_ok(word):
            good += count
        else:
            bad += 2 * count
    for char, count in Counter(_NON_ASCII.findall(sample)).items():
        if _suspicious_char(char):
            bad += 3 * count
    return good, bad


def vietnamese_score(text: str) -> float:
    """Higher when text reads as Vietnamese; mojibake and stray marks pull it down."""
    good, bad = _letter_counts(text)
    return good - bad


def declared_encoding(body: bytes, content_type: str | None) -> str | None:
    """The charset the server or the page claims (header first, as browsers do)."""
    label = http_content_type_encoding(content_type) if content_type else None
    label = label or html_body_declared_encoding(body[:4096])
    return resolve_encoding(label) if label else None


def _decode(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_html(body: bytes, content_type: str | None = None) -> DecodedPage:
    """The page's text, whatever its label says."""
    declared = declared_encoding(body, content_type)
    bom_encoding, _ = read_bom(body)
    if bom_encoding:
        encoding = resolve_encoding(bom_encoding) or "utf-8"
        text = body.decode(encoding, errors="replace").lstrip("\ufeff")
        return _repair(text, encoding, declared)
    text = _decode(body, "utf-8")
    if text is not None:
        return _repair(text, "utf-8", declared)
    candidates: list[str] = []
    for name in (declared, "cp1258"):
        if name and name not in candidates and name != "utf-8":
            candidates.append(name)
    for match in from_bytes(body[:200_000], cp_isolation=None, steps=3, threshold=0.3):
        codec = resolve_encoding(match.encoding)
        if codec and codec not in candidates and codec != "utf-8":
            candidates.append(codec)
        if len(candidates) >= 6:
            break
    best: tuple[float, int, str, str] | None = None
    for rank, name in enumerate(candidates):
        decoded = _decode(body, name)
        if decoded is None:
            continue
        key = (vietnamese_score(decoded), -rank, name, decoded)
        if best is None or key[:2] > best[:2]:
            best = key
    if best is None:
        return _repair(body.decode("utf-8", errors="replace"), "utf-8", declared)
    return _repair(best[3], best[2], declared)


# What UTF-8 Vietnamese looks like when its bytes were read as windows-1252 or latin-1:
# a lead byte (Ã, Ä, Æ, á, â...) then a continuation byte ("Viá»‡t", "Ä‘", "â€œ"),
# or C1 control characters. Text with none of these has nothing for ftfy to repair.
# (Two searches: a pattern that starts with one character class is scanned for that
# class quickly; an alternation of two is not, and took 60% longer on real pages.)
_MOJIBAKE_PAIR = re.compile(
    "[\u00c2-\u00c6\u00e1\u00e2][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d"
    "\u017e\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030"
    "\u2039\u203a\u20ac\u2122]")
_C1_CONTROL = re.compile("[\u0080-\u009f]")


def _looks_like_mojibake(text: str) -> bool:
    return bool(_MOJIBAKE_PAIR.search(text) or _C1_CONTROL.search(text))


def _repair(text: str, encoding: str, declared: str | None) -> DecodedPage:
    if not _looks_like_mojibake(text):
        return DecodedPage(text, encoding, declared)
    good, bad = _letter_counts(text, 60_000)
    # ftfy's check is slow on a whole page: ask it only when something looks off.
    if bad > 2 + 0.02 * (good + bad) and is_bad(text):
        fixed = ftfy.fix_text(text, _FTFY_CONFIG)
        if fixed != text and vietnamese_score(fixed) >= vietnamese_score(text):
            return DecodedPage(fixed, encoding, declared, repaired=True)
    return DecodedPage(text, encoding, declared)
