"""What the learned model sees: TF-IDF over folded syllable n-grams (and optionally more).

The words come from :class:`classifier.normalize.Document` (folded, lower
case), so a post typed without diacritics gives the same features as proper
text. When the text carries diacritics, the same n-grams as written count too
(``m:`` features, in the same block): folding makes "đảng" and "đang",
"bán" and "bạn" one word, and the written form tells them apart. Negative
contexts found by the matcher are replaced by one marker word each ("giải
phóng mặt bằng" never feeds "giải phóng"). Title words count
again with a ``t:`` prefix, because the title says what an item is about.

Optional extras, measured in docs/classifier.md: character n-grams over the
folded text (spelling variants, words glued together) and underthesea word
segmentation (compound words as one feature; about 15 ms per article).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from classifier.matcher import Match
from classifier.normalize import Document

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfVectorizer

NEGATIVE_MARKER = "xneg"
# The model reads the title and the first words of the body: what an item is
# about is said there (labelling rule 1), and a long article costs no more
# than this. Phrases are still searched in the whole text.
MODEL_WORDS = 400


@dataclass(frozen=True)
class FeatureConfig:
    """Which features the model uses; stored in the model file.

    The defaults were chosen by cross-validation on the training part (docs/classifier.md):
    syllable uni- and bigrams, folded and (``marked_words``, in the same block) as written
    when the text carries diacritics, with no cap on the vocabulary. A separate block of
    title words and one of character n-grams both lowered every figure once the corpus
    held 8,000 real items (each block is L2-normalised, so an extra block takes weight
    from the words)."""

    title_words: bool = False
    char_ngrams: tuple[int, int] | None = None
    char_limit: int = 1500
    segmentation: bool = False
    marked_words: bool = True
    min_df: int = 3
    max_features: int | None = None

    def __setstate__(self, state: dict[str, Any]) -> None:
        # A model file written before a field existed did not use what the field adds.
        self.__dict__.update({"marked_words": False, **state})


@dataclass(frozen=True)
class ModelInput:
    """One document's words for the model (folded, negatives masked)."""

    words: tuple[str, ...]
    title_words: tuple[str, ...]
    folded_text: str
    segmented: tuple[str, ...] = ()
    marked: tuple[str, ...] = ()     # the words as written; empty for text without diacritics


def model_input(doc: Document, negatives: Sequence[Match] = (), segmentation: bool = False,
                marked: bool = False) -> ModelInput:
    """The words the model reads: the first MODEL_WORDS, negative contexts masked.

    With ``marked``, the same words as written too, when the text carries diacritics."""
    words = _masked(list(doc.words[:MODEL_WORDS]), negatives)
    masked = {i for m in negatives for i in range(m.first, m.last + 1)}
    title_words = [w for i, w in enumerate(doc.words[:doc.title_token_count]) if i not in masked]
    segmented: tuple[str, ...] = ()
    if segmentation:
        segmented = tuple(segment_compounds(doc.full))
    as_written: list[str] = []
    if marked and doc.written_with_marks:
        as_written = _masked(doc.marked_words(MODEL_WORDS), negatives)
    return ModelInput(tuple(words), tuple(title_words), " ".join(words), segmented,
                      tuple(as_written))


def _masked(words: list[str], negatives: Sequence[Match]) -> list[str]:
    """Each negative context within ``words`` replaced by one marker word."""
    for match in sorted(negatives, key=lambda m: m.first, reverse=True):
        if match.first < len(words):
            words[match.first:match.last + 1] = [NEGATIVE_MARKER]
    return words


def segment_compounds(text: str) -> list[str]:
    """Compound words (two syllables or more) found by underthesea, folded: "giai_phong"."""
    from underthesea import word_tokenize

    from classifier.normalize import tokenize

    compounds = []
    for word in word_tokenize(text):
        syllables = [t for t, _, _ in tokenize(word)]
        if len(syllables) > 1:
            compounds.append("_".join(syllables))
    return compounds


def word_analyzer(data: ModelInput) -> list[str]:
    """Syllable uni- and bigrams of title and body (module level, so the model pickles)."""
    words = data.words
    return [*words, *[a + " " + b for a, b in zip(words, words[1:], strict=False)]]


def word_and_marked_analyzer(data: ModelInput) -> list[str]:
    """Folded syllable uni- and bigrams, and the same as written (with diacritics) when
    the text has them: "đảng" and "đang" fold alike, and a post typed without
    diacritics still gets the folded half."""
    grams = word_analyzer(data)
    marked = data.marked
    if marked:
        grams += ["m:" + w for w in marked]
        grams += ["m:" + a + " " + b for a, b in zip(marked, marked[1:], strict=False)]
    return grams


def title_analyzer(data: ModelInput) -> list[str]:
    return [f"t:{w}" for w in data.title_words]


class _CharAnalyzer:
    """Character n-grams inside words of the folded text (the first ``limit`` characters)."""

    def __init__(self, low: int, high: int, limit: int):
        self.low, self.high, self.limit = low, high, limit

    def words(self, data: ModelInput) -> list[str]:
        return data.folded_text[: self.limit].split()

    def grams(self, word: str) -> list[str]:
        padded = f" {word} "
        size = len(padded)
        grams = []
        for n in range(self.low, min(self.high, size) + 1):
            grams.extend("c:" + padded[i:i + n] for i in range(size - n + 1))
        return grams

    def __call__(self, data: ModelInput) -> list[str]:
        grams = []
        for word in self.words(data):
            grams.extend(self.grams(word))
        return grams


def segment_analyzer(data: ModelInput) -> list[str]:
    return [f"w:{w}" for w in data.segmented]


class Featurizer:
    """Fits the vocabularies on training inputs; turns inputs into one sparse matrix."""

    def __init__(self, config: FeatureConfig):
        self.config = config
        self.vectorizers: list[TfidfVectorizer] = []

    def _build(self) -> list[TfidfVectorizer]:
        # sklearn is needed to fit, not to tag: imported here so that tagging does not pay
        # for it (about half a second of start-up in every crawl and import process).
        from sklearn.feature_extraction.text import TfidfVectorizer

        c = self.config
        words = word_and_marked_analyzer if c.marked_words else word_analyzer
        vectorizers = [TfidfVectorizer(analyzer=words, sublinear_tf=True,
                                       min_df=c.min_df, max_features=c.max_features,
                                       dtype=np.float32)]
        if c.title_words:
            vectorizers.append(TfidfVectorizer(analyzer=title_analyzer, sublinear_tf=True,
                                               min_df=c.min_df, dtype=np.float32))
        if c.char_ngrams:
            vectorizers.append(TfidfVectorizer(
                analyzer=_CharAnalyzer(c.char_ngrams[0], c.char_ngrams[1], c.char_limit),
                sublinear_tf=True, min_df=c.min_df, max_features=c.max_features,
                dtype=np.float32))
        if c.segmentation:
            vectorizers.append(TfidfVectorizer(analyzer=segment_analyzer, sublinear_tf=True,
                                               min_df=c.min_df, dtype=np.float32))
        return vectorizers

    def fit_transform(self, inputs: Sequence[ModelInput]) -> sp.csr_matrix:
        self.vectorizers = self._build()
        blocks = [v.fit_transform(inputs) for v in self.vectorizers]
        return _stack(blocks)

    def transform(self, inputs: Sequence[ModelInput]) -> sp.csr_matrix:
        return _stack([v.transform(inputs) for v in self.vectorizers])

    def feature_names(self) -> list[str]:
        names: list[str] = []
        for v in self.vectorizers:
            names.extend(v.get_feature_names_out().tolist())
        return names

    def tables(self) -> FeatureTables:
        """What tagging needs of the fitted vectorizers, without sklearn objects."""
        return FeatureTables(self.config, [
            FeatureBlock(v.analyzer, dict(v.vocabulary_), np.asarray(v.idf_, dtype=np.float64))
            for v in self.vectorizers])


@dataclass
class FeatureBlock:
    """One fitted vectorizer as plain data: its analyzer, vocabulary and idf weights."""

    analyzer: Callable[[ModelInput], list[str]]
    vocabulary: dict[str, int]
    idf: np.ndarray


@dataclass
class FeatureTables:
    """The fitted featurizer as the model file keeps it: plain dicts and arrays, so that
    reading a model and tagging need numpy only."""

    config: FeatureConfig
    blocks: list[FeatureBlock] = field(default_factory=list)

    def feature_names(self) -> list[str]:
        names: list[str] = []
        for block in self.blocks:
            ordered = [""] * len(block.vocabulary)
            for name, index in block.vocabulary.items():
                ordered[index] = name
            names.extend(ordered)
        return names


def _stack(blocks: list[sp.csr_matrix]) -> sp.csr_matrix:
    if len(blocks) == 1:
        return blocks[0].tocsr()
    # Each block is L2-normalised on its own; scale so the whole row stays at norm ~1.
    scale = 1.0 / np.sqrt(len(blocks))
    return (sp.hstack(blocks, format="csr") * scale).astype(np.float32)


class FastFeaturizer:
    """The fitted vectorizers' transform without sklearn's per-call overhead.

    Same result as :meth:`Featurizer.transform` (a test checks it): counts of
    the analyzer's features, sublinear tf × idf, L2 per block, blocks scaled
    to keep the row norm at 1. Tagging one short item with sklearn's transform
    costs more than everything else put together; this keeps it to microseconds.
    """

    # Character n-grams are looked up once per distinct word (Vietnamese has a few
    # thousand syllables), not once per occurrence.
    WORD_CACHE_LIMIT = 200_000

    def __init__(self, tables: FeatureTables | Featurizer):
        if isinstance(tables, Featurizer):
            tables = tables.tables()
        self.blocks: list[tuple[Any, dict[str, int]]] = []
        starts, idfs = [], []
        offset = 0
        for block in tables.blocks:
            # vocabulary values carry the block's offset: one index space for all blocks
            vocabulary = {f: i + offset for f, i in block.vocabulary.items()}
            self.blocks.append((block.analyzer, vocabulary))
            starts.append(offset)
            idfs.append(block.idf)
            offset += len(block.idf)
        self.n_features = offset
        self.block_starts = np.array(starts)
        self.idf = np.concatenate(idfs) if idfs else np.zeros(0)
        self.scale = 1.0 / np.sqrt(len(self.blocks)) if len(self.blocks) > 1 else 1.0
        self._word_cache: dict[str, tuple[int, ...]] = {}

    def _char_indexes(self, analyzer: _CharAnalyzer, vocabulary: dict[str, int],
                      data: ModelInput) -> list[int]:
        cache = self._word_cache
        if len(cache) > self.WORD_CACHE_LIMIT:
            cache.clear()
        found: list[int] = []
        for word in analyzer.words(data):
            indexes = cache.get(word)
            if indexes is None:
                indexes = tuple(i for i in map(vocabulary.get, analyzer.grams(word))
                                if i is not None)
                cache[word] = indexes
            found.extend(indexes)
        return found

    def found(self, data: ModelInput) -> list[int]:
        """The feature index of every feature occurrence in one document (with repeats)."""
        found: list[int] = []
        for analyzer, vocabulary in self.blocks:
            if isinstance(analyzer, _CharAnalyzer):
                found.extend(self._char_indexes(analyzer, vocabulary, data))
            else:
                found += [i for i in map(vocabulary.get, analyzer(data)) if i is not None]
        return found

    def row(self, data: ModelInput) -> tuple[np.ndarray, np.ndarray]:
        """(feature indexes, values) of one document."""
        found = self.found(data)
        if not found:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        indexes, counts = np.unique(np.array(found, dtype=np.int64), return_counts=True)
        values = (np.log(counts) + 1.0) * self.idf[indexes]
        block = np.searchsorted(self.block_starts, indexes, side="right") - 1
        norms = np.sqrt(np.bincount(block, values * values, minlength=len(self.blocks)))
        values *= self.scale / norms[block]
        return indexes, values

    def matrix(self, inputs: Sequence[ModelInput]) -> sp.csr_matrix:
        """All documents at once: the counting, weighting and norms run once per batch in
        numpy and scipy, not once per document (what makes batches faster than rows)."""
        lengths, found = [], []
        for data in inputs:
            occurrences = self.found(data)
            lengths.append(len(occurrences))
            found.extend(occurrences)
        n = len(lengths)
        counts = sp.csr_matrix(
            (np.ones(len(found)), (np.repeat(np.arange(n), lengths),
                                   np.array(found, dtype=np.int64))),
            shape=(n, self.n_features))
        counts.sum_duplicates()                       # canonical: sorted, one entry per feature
        indexes = counts.indices
        values = (np.log(counts.data) + 1.0) * self.idf[indexes]
        rows = np.repeat(np.arange(n), np.diff(counts.indptr))
        cells = rows * len(self.blocks) + (
            np.searchsorted(self.block_starts, indexes, side="right") - 1)
        norms = np.sqrt(np.bincount(cells, values * values, minlength=n * len(self.blocks)))
        values *= self.scale / norms[cells]
        return sp.csr_matrix((values, indexes, counts.indptr), shape=(n, self.n_features))
