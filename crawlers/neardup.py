"""Near-duplicates: the same story republished elsewhere (a ward portal copying the paper).

MinHash over word 3-shingles of the folded title and text, with LSH to find
candidates; a candidate counts when the estimated Jaccard similarity reaches
the threshold. Only originals are indexed, so a match always names an
original; when the newcomer was published earlier than the indexed story, the
two swap roles (the caller re-marks the older-indexed one). Signatures are kept
in the ledger so that the index spans runs.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from datasketch import MinHash, MinHashLSH

from dophu.text import fold_lower

NUM_PERM = 128
SHINGLE_WORDS = 3
MIN_WORDS = 25
_WORD = re.compile(r"\w+")


def shingles(title: str, text: str, size: int = SHINGLE_WORDS) -> set[bytes]:
    words = _WORD.findall(fold_lower(f"{title}\n{text}"))
    if len(words) < MIN_WORDS:
        return set()
    return {" ".join(words[i:i + size]).encode() for i in range(len(words) - size + 1)}


# datasketch 2 names its permutation scheme (and changed it); a stored signature carries
# the scheme it was made with, and one made with another scheme is not compared.
_HAS_SCHEMES = "scheme" in inspect.signature(MinHash.__init__).parameters
SCHEME = "affine32" if _HAS_SCHEMES else "legacy"
_SCHEME_ARGS: dict[str, str] = {"scheme": SCHEME} if _HAS_SCHEMES else {}
_TAG = SCHEME.encode() + b":"


def signature(title: str, text: str) -> MinHash | None:
    """The MinHash of a story, or None when it is too short to compare fairly."""
    parts = shingles(title, text)
    if not parts:
        return None
    minhash = MinHash(num_perm=NUM_PERM, permutations=_permutations(), **_SCHEME_ARGS)
    minhash.update_batch(list(parts))
    return minhash


@cache
def _permutations() -> Any:
    """The scheme's permutations for the default seed, drawn once (MinHash draws them anew
    on every construction, which costs more than hashing a short story)."""
    return MinHash(num_perm=NUM_PERM, **_SCHEME_ARGS).permutations


@cache
def _lsh_bands(threshold: float) -> tuple[int, int]:
    """LSH (bands, rows) for ``threshold``: datasketch finds them by numerical integration
    (about 40 ms), which is worth doing once per process, not once per index."""
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    return lsh.b, lsh.r


def to_bytes(minhash: MinHash) -> bytes:
    return _TAG + np.asarray(minhash.hashvalues, dtype=np.uint64).tobytes()


def from_bytes(raw: bytes) -> MinHash | None:
    """The stored signature, or None when another datasketch scheme made it."""
    if not raw.startswith(_TAG):
        return None
    values = np.frombuffer(raw[len(_TAG):], dtype=np.uint64).copy()
    return MinHash(num_perm=NUM_PERM, hashvalues=values, permutations=_permutations(),
                   **_SCHEME_ARGS)


@dataclass(frozen=True)
class Match:
    original: str            # the id the newcomer is a duplicate of
    similarity: float
    swapped_out: str | None  # an indexed story that turned out to be the later copy


class NearDuplicateIndex:
    """Originals seen so far (this run and, through the ledger, earlier ones)."""

    def __init__(self, threshold: float = 0.8):
        self.threshold = threshold
        self.lsh = MinHashLSH(threshold=max(0.3, threshold - 0.1), num_perm=NUM_PERM,
                              params=_lsh_bands(max(0.3, threshold - 0.1)))
        self.signatures: dict[str, MinHash] = {}
        self.published: dict[str, float | None] = {}

    def __len__(self) -> int:
        return len(self.signatures)

    def load(self, rows: Iterable[tuple[str, str, bytes, float | None]]) -> int:
        count = 0
        for item_id, _source, raw, published in rows:
            minhash = from_bytes(raw)
            if minhash is not None and item_id not in self.signatures:
                self.add(item_id, minhash, published)
                count += 1
        return count

    def add(self, item_id: str, minhash: MinHash, published: float | None) -> None:
        if item_id in self.signatures:
            self.remove(item_id)
        self.lsh.insert(item_id, minhash)
        self.signatures[item_id] = minhash
        self.published[item_id] = published

    def remove(self, item_id: str) -> None:
        if item_id in self.signatures:
            self.lsh.remove(item_id)
            del self.signatures[item_id]
            self.published.pop(item_id, None)

    def match(self, item_id: str, minhash: MinHash, published: float | None) -> Match | None:
        """The original this story copies, if any (the earliest published among matches)."""
        best: tuple[float, str, float] | None = None
        for candidate in self.lsh.query(minhash):
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
