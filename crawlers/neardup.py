"""Near-duplicates: the same story republished elsewhere (a ward portal copying the paper).

MinHash over word 3-shingles of the folded title and text, with LSH (banding)
to find candidates; a candidate counts when the estimated Jaccard similarity
reaches the threshold. Only originals are indexed, so a match always names an
original; when the newcomer was published earlier than the indexed story, the
two swap roles (the caller re-marks the older-indexed one). Signatures are kept
in the ledger so that the index spans runs.

This is numpy, not datasketch: importing datasketch imports scipy (0.5 s of
every crawl pass's start-up on the 2-core machine) and it hashes each shingle
with SHA-1 in Python; here a shingle's hash mixes its three words' CRC-32s in
one vectorised step (docs/performance.md has the before and after).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import numpy as np

from dophu.text import fold_lower

NUM_PERM = 128
SHINGLE_WORDS = 3
MIN_WORDS = 25
_WORD = re.compile(r"\w+")
_PRIME = np.uint64((1 << 31) - 1)      # hashes and permutations live mod this prime
_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F))
_FINAL = (np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))   # splitmix64
SEED = 1
# The scheme a stored signature was made with; one made with another is not compared.
SCHEME = "crc32w3-p31"
_TAG = SCHEME.encode() + b":"


@cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """(a, b) of the NUM_PERM universal hash functions h -> (a*h + b) mod p, drawn once."""
    rng = np.random.default_rng(SEED)
    a = rng.integers(1, int(_PRIME), size=NUM_PERM, dtype=np.uint64)
    b = rng.integers(0, int(_PRIME), size=NUM_PERM, dtype=np.uint64)
    return a[:, None], b[:, None]


@dataclass(frozen=True, eq=False)
class Signature:
    """NUM_PERM minimum hash values of a story's shingles."""

    values: np.ndarray

    def jaccard(self, other: Signature) -> float:
        """The estimated Jaccard similarity of the two stories' shingle sets."""
        return float(np.count_nonzero(self.values == other.values)) / NUM_PERM


def shingle_hashes(title: str, text: str, size: int = SHINGLE_WORDS) -> np.ndarray:
    """One hash (< p) per word ``size``-gram of the folded, lower-cased story; empty
    when it has fewer than MIN_WORDS words."""
    words = _WORD.findall(fold_lower(f"{title}\n{text}"))
    if len(words) < max(MIN_WORDS, size):
        return np.empty(0, dtype=np.uint64)
    word_hashes = np.fromiter((zlib.crc32(w.encode()) for w in words), dtype=np.uint64,
                              count=len(words))
    mixed = word_hashes[size - 1:].copy()
    for offset in range(size - 1):          # w0 * M0 + w1 * M1 + w2, modulo 2**64
        mixed += word_hashes[offset:len(words) - size + 1 + offset] * _MIX[offset % 2]
    # splitmix64's finaliser, so that every word moves every bit of the result
    mixed ^= mixed >> np.uint64(30)
    mixed *= _FINAL[0]
    mixed ^= mixed >> np.uint64(27)
    mixed *= _FINAL[1]
    mixed ^= mixed >> np.uint64(31)
    return np.unique(mixed % _PRIME)


def signature(title: str, text: str) -> Signature | None:
    """The MinHash of a story, or None when it is too short to compare fairly."""
    hashes = shingle_hashes(title, text)
    if hashes.size == 0:
        return None
    a, b = _permutations()
    # a, b and every hash are below p < 2**31, so a*h + b < 2**63: no uint64 overflow
    return Signature(((a * hashes[None, :] + b) % _PRIME).min(axis=1))


def to_bytes(minhash: Signature) -> bytes:
    return _TAG + np.asarray(minhash.values, dtype=np.uint64).tobytes()


def from_bytes(raw: bytes) -> Signature | None:
    """The stored signature, or None when another scheme made it (its story is then
    signed again by the caller, see ``NearDuplicateIndex.unreadable``)."""
    if not raw.startswith(_TAG):
        return None
    values = np.frombuffer(raw[len(_TAG):], dtype=np.uint64)
    return Signature(values.copy()) if values.size == NUM_PERM else None


def _false_rates(threshold: float, bands: int, rows: int) -> tuple[float, float]:
    """Areas of false positives (similarity below threshold, still a candidate) and false
    negatives (above it, never a candidate) for LSH with ``bands`` x ``rows``."""
    low = np.linspace(0.0, threshold, 201)
    high = np.linspace(threshold, 1.0, 201)
    candidate_low = 1 - (1 - low ** rows) ** bands
    candidate_high = 1 - (1 - high ** rows) ** bands
    return (float(np.trapezoid(candidate_low, low)),
            float(np.trapezoid(1 - candidate_high, high)))


@cache
def _lsh_bands(threshold: float) -> tuple[int, int]:
    """(bands, rows), bands * rows <= NUM_PERM, with the least false positive plus false
    negative area at ``threshold`` (the usual choice, as in datasketch's MinHashLSH)."""
    best: tuple[float, int, int] | None = None
    for bands in range(1, NUM_PERM + 1):
        for rows in range(1, NUM_PERM // bands + 1):
            fp, fn = _false_rates(threshold, bands, rows)
            if best is None or fp + fn < best[0]:
                best = (fp + fn, bands, rows)
    assert best is not None
    return best[1], best[2]


@dataclass(frozen=True)
class Match:
    original: str            # the id the newcomer is a duplicate of
    similarity: float
    swapped_out: str | None  # an indexed story that turned out to be the later copy


class NearDuplicateIndex:
    """Originals seen so far (this run and, through the ledger, earlier ones)."""

    def __init__(self, threshold: float = 0.8):
        self.threshold = threshold
        self.bands, self.rows = _lsh_bands(max(0.3, threshold - 0.1))
        self._buckets: list[dict[bytes, set[str]]] = [{} for _ in range(self.bands)]
        self.signatures: dict[str, Signature] = {}
        self.published: dict[str, float | None] = {}
        # (item id, source, published) of loaded rows another scheme made
        self.unreadable: list[tuple[str, str, float | None]] = []

    def __len__(self) -> int:
        return len(self.signatures)

    def _keys(self, minhash: Signature) -> list[bytes]:
        values, rows = minhash.values, self.rows
        return [values[band * rows:(band + 1) * rows].tobytes() for band in range(self.bands)]

    def load(self, rows: Iterable[tuple[str, str, bytes, float | None]]) -> int:
        count = 0
        for item_id, source, raw, published in rows:
            minhash = from_bytes(raw)
            if minhash is None:
                self.unreadable.append((item_id, source, published))
            elif item_id not in self.signatures:
                self.add(item_id, minhash, published)
                count += 1
        return count

    def add(self, item_id: str, minhash: Signature, published: float | None) -> None:
        if item_id in self.signatures:
            self.remove(item_id)
        for bucket, key in zip(self._buckets, self._keys(minhash), strict=True):
            bucket.setdefault(key, set()).add(item_id)
        self.signatures[item_id] = minhash
        self.published[item_id] = published

    def remove(self, item_id: str) -> None:
        minhash = self.signatures.pop(item_id, None)
        if minhash is None:
            return
        self.published.pop(item_id, None)
        for bucket, key in zip(self._buckets, self._keys(minhash), strict=True):
            members = bucket.get(key)
            if members is not None:
                members.discard(item_id)
                if not members:
                    del bucket[key]

    def candidates(self, minhash: Signature) -> set[str]:
        """Indexed stories sharing at least one band with ``minhash``."""
        found: set[str] = set()
        for bucket, key in zip(self._buckets, self._keys(minhash), strict=True):
            found.update(bucket.get(key, ()))
        return found

    def match(self, item_id: str, minhash: Signature, published: float | None
              ) -> Match | None:
        """The original this story copies, if any (the earliest published among matches)."""
        best: tuple[float, str, float] | None = None
        for candidate in sorted(self.candidates(minhash)):
            if candidate == item_id:
                continue
            similarity = minhash.jaccard(self.signatures[candidate])
            if similarity < self.threshold:
                continue
            when = self.published.get(candidate)
            key = (when if when is not None else float("inf"), candidate, similarity)
            if best is None or key[:2] < best[:2]:
                best = key
        if best is None:
            return None
        candidate_time, candidate, similarity = best
        if published is not None and published < candidate_time:
            return Match(original=item_id, similarity=similarity, swapped_out=candidate)
        return Match(original=candidate, similarity=similarity, swapped_out=None)
