"""Precedents: the labelled items most like a document, and how they were labelled.

A linear model weighs each word on its own. It cannot learn that a company's
stand at the A80 exhibition is out of scope while a ministry's pavilion there is
in: both share the exhibition's words, and each company name is rare. The
labelled items nearest to a document carry such judgements, so how they were
labelled is one more input of the combiner (docs/classifier.md, "Session 8"):
for each label, the similarity-weighted share of the ``k`` nearest items that
have it, and the similarity of the nearest one if it has it.

Similarity is the dot product of the model's TF-IDF rows, without the words
found in more than ``max_df`` of the labelled items: they say little about
which items are alike, and each is shared by thousands of items, which made the
search about 35 times slower (docs/classifier.md, "Session 8").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

# How many values per (document, label) the combiner reads from the precedents.
NEIGHBOUR_FEATURES = 2
# A word in this many items or fewer is always kept: leaving words out is for speed, and
# a small index is fast anyway (with 600 items, 1% would leave out nearly every word).
ALWAYS_KEPT_DF = 50


def _best(values: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` largest ``values`` (all when fewer), largest first."""
    top = np.argpartition(-values, k - 1)[:k] if len(values) > k else np.arange(len(values))
    return top[np.argsort(-values[top], kind="stable")]


@dataclass
class Precedent:
    """One labelled item near a document."""

    title: str
    similarity: float
    has_label: bool


@dataclass
class NeighbourIndex:
    """The labelled items' feature rows (common words left out) and their labels.

    The rows are kept transposed (one row of item weights per word, like an inverted
    index): a query then touches only the items that share one of its words."""

    postings: sp.csr_matrix   # (features, items) float32
    labels: np.ndarray        # (items, labels) bool: the item has the label
    known: np.ndarray         # (items, labels) bool: the item's label is known (feedback: not all)
    titles: list[str]
    k: int

    @classmethod
    def build(cls, matrix: sp.csr_matrix, labels: np.ndarray, known: np.ndarray,
              titles: Sequence[str], k: int, max_df: float) -> NeighbourIndex:
        """An index of ``matrix``'s rows without the words of more than ``max_df`` of them
        (and of more than ALWAYS_KEPT_DF)."""
        matrix = sp.csr_matrix(matrix, dtype=np.float32)
        document_frequency = np.bincount(matrix.indices, minlength=matrix.shape[1])
        keep = document_frequency <= max(max_df * matrix.shape[0], ALWAYS_KEPT_DF)
        postings = (sp.diags(keep.astype(np.float32)) @ matrix.T).tocsr()
        postings.eliminate_zeros()
        known = np.asarray(known, dtype=bool)
        return cls(postings, np.asarray(labels, dtype=bool) & known, known, list(titles), k)

    def __len__(self) -> int:
        return self.postings.shape[1]

    def __getstate__(self) -> dict[str, Any]:
        # Half the model file's size: weights as float16 (three significant digits are
        # plenty for a similarity), item numbers as uint16 when they fit.
        state = dict(self.__dict__)
        postings = state.pop("postings")
        small = postings.shape[1] <= np.iinfo(np.uint16).max + 1
        state["packed_postings"] = (postings.shape, postings.indptr.astype(np.int32),
                                    postings.indices.astype(np.uint16 if small else np.int32),
                                    postings.data.astype(np.float16))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        if "packed_postings" in state:
            shape, indptr, indices, data = state.pop("packed_postings")
            state["postings"] = sp.csr_matrix(
                (data.astype(np.float32), indices.astype(np.int32), indptr), shape=shape)
        self.__dict__.update(state)

    def nearest(self, queries: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        """(indexes, similarities) of each query's ``k`` nearest items, nearest first
        (similarity 0 where fewer items share a word with it)."""
        n, k = queries.shape[0], min(self.k, len(self))
        indexes = np.zeros((n, k), dtype=np.int64)
        similarities = np.zeros((n, k))
        product = (sp.csr_matrix(queries, dtype=np.float32) @ self.postings).tocsr()
        pointer, found, values = product.indptr, product.indices, product.data
        for row in range(n):
            start, end = pointer[row], pointer[row + 1]
            top = start + _best(values[start:end], k)
            indexes[row, :len(top)] = found[top]
            similarities[row, :len(top)] = values[top]
        return indexes, similarities

    def nearest_row(self, indexes: np.ndarray, values: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`nearest` for one document given as (feature indexes, values), in numpy
        alone: tagging one by one pays scipy's overhead per call otherwise."""
        k = min(self.k, len(self))
        postings = self.postings
        starts = postings.indptr[indexes]
        lengths = postings.indptr[np.asarray(indexes) + 1] - starts
        total = int(lengths.sum())
        found = np.zeros((1, k), dtype=np.int64)
        similarities = np.zeros((1, k))
        if not total:
            return found, similarities
        # the positions of every posting of the document's words, in one array
        positions = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
        sums = np.bincount(postings.indices[positions], minlength=len(self),
                           weights=postings.data[positions] * np.repeat(values, lengths))
        candidates = np.flatnonzero(sums)      # the items sharing a word: far fewer than all
        top = candidates[_best(sums[candidates], k)]
        found[0, :len(top)] = top
        similarities[0, :len(top)] = sums[top]
        return found, similarities

    def votes(self, queries: sp.csr_matrix) -> np.ndarray:
        """(documents, labels, NEIGHBOUR_FEATURES): :meth:`vote` of the nearest items."""
        return self.vote(*self.nearest(queries))

    def vote(self, indexes: np.ndarray, similarities: np.ndarray) -> np.ndarray:
        """For (indexes, similarities) from :meth:`nearest`: the share of the nearest items
        that have each label (weighted by similarity, among those whose label is known),
        and the nearest item's similarity where it has the label."""
        out = np.zeros((len(indexes), self.labels.shape[1], NEIGHBOUR_FEATURES))
        if not indexes.size:
            return out
        weights = similarities[:, :, None] * self.known[indexes]
        out[:, :, 0] = ((weights * self.labels[indexes]).sum(axis=1)
                        / np.maximum(weights.sum(axis=1), 1e-9))
        out[:, :, 1] = similarities[:, :1] * self.labels[indexes[:, 0]]
        return out

    def precedents(self, indexes: np.ndarray, similarities: np.ndarray, column: int
                   ) -> list[Precedent]:
        """One document's nearest items (a row of :meth:`nearest`) as evidence for a label."""
        return [Precedent(self.titles[i], float(s), bool(self.labels[i, column]))
                for i, s in zip(indexes, similarities, strict=True) if s > 0]

