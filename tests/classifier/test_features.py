"""What the model reads: folded words, and the words as written when there are diacritics."""

from __future__ import annotations

import numpy as np

from classifier.engine import Labels, prepare
from classifier.evidence import model_terms
from classifier.features import (
    NEGATIVE_MARKER,
    FastFeaturizer,
    FeatureConfig,
    Featurizer,
    model_input,
    word_and_marked_analyzer,
)
from classifier.matcher import PhraseMatcher
from classifier.normalize import Document
from dophu.config import Plan

PROPER = Document.from_raw("Đảng bộ phường đang chuẩn bị Đại hội",
                           "Ban Chấp hành Đảng bộ họp bàn công tác nhân sự.")
UNMARKED = Document.from_raw("Dang bo phuong dang chuan bi Dai hoi",
                             "Ban Chap hanh Dang bo hop ban cong tac nhan su.")


def test_marked_words_are_aligned_with_the_folded_words() -> None:
    marked = PROPER.marked_words(100)
    assert len(marked) == len(PROPER.words)
    assert marked[:4] == ["đảng", "bộ", "phường", "đang"]
    assert PROPER.words[:4] == ["dang", "bo", "phuong", "dang"]
    assert PROPER.marked_words(3) == ["đảng", "bộ", "phường"]


def test_the_model_reads_words_as_written_only_when_asked_and_marked() -> None:
    assert model_input(PROPER, marked=True).marked[:4] == ("đảng", "bộ", "phường", "đang")
    assert model_input(PROPER, marked=False).marked == ()
    # a post typed without diacritics has no written form to add: the folded words only
    assert model_input(UNMARKED, marked=True).marked == ()
    assert model_input(UNMARKED, marked=True).words == model_input(PROPER, marked=True).words


def test_negative_contexts_are_masked_in_both_forms(plan: Plan) -> None:
    labels, matcher = Labels(plan), PhraseMatcher(plan)
    prepared = prepare(labels, matcher, "Đẩy nhanh giải phóng mặt bằng dự án",
                       "Tiến độ giải phóng mặt bằng cao tốc.", None,
                       features=FeatureConfig(marked_words=True))
    data = prepared.model_input
    assert data is not None
    assert data.words.count(NEGATIVE_MARKER) == 2
    assert data.marked.count(NEGATIVE_MARKER) == 2
    assert "giải" not in data.marked and "giai" not in data.words
    assert len(data.words) == len(data.marked)


def test_analyzer_gives_folded_and_written_grams() -> None:
    grams = word_and_marked_analyzer(model_input(PROPER, marked=True))
    assert {"dang", "dang bo", "m:đảng", "m:đang", "m:đảng bộ", "m:đang chuẩn"} <= set(grams)
    unmarked = word_and_marked_analyzer(model_input(UNMARKED, marked=True))
    assert "dang bo" in unmarked
    assert not any(g.startswith("m:") for g in unmarked)


def test_rules_alone_build_no_model_input(plan: Plan) -> None:
    prepared = prepare(Labels(plan), PhraseMatcher(plan), "Đại hội Đảng bộ", "", None,
                       features=None)
    assert prepared.model_input is None


def test_fast_features_equal_sklearn_with_written_words() -> None:
    inputs = [model_input(Document.from_raw(t, ""), marked=True) for t in (
        "Đảng bộ phường đang chuẩn bị Đại hội", "Dang bo phuong dang chuan bi Dai hoi",
        "Đảng viên đang học tập nghị quyết", "Giá vàng đang tăng", "Đảng bộ xã họp")]
    featurizer = Featurizer(FeatureConfig(marked_words=True, min_df=1))
    slow = featurizer.fit_transform(inputs)
    assert "m:đảng bộ" in featurizer.feature_names()
    fast = FastFeaturizer(featurizer.tables()).matrix(inputs)
    assert abs(fast - slow).max() < 1e-6


def test_a_written_term_is_quoted_where_it_is_written() -> None:
    """"m:đảng" must quote "Đảng", not the first word that folds alike ("đang")."""
    doc = Document.from_raw("Phường đang chuẩn bị", "Đại hội Đảng bộ phường.")
    names = ["m:đảng", "dang"]
    row = (np.array([0, 1]), np.array([1.0, 0.1]))
    weights = np.array([2.0, 1.0])
    assert model_terms(doc, row, weights, names, limit=2) == ["Đảng", "đang"]


def test_a_model_file_from_before_the_written_words_does_not_read_them() -> None:
    """A FeatureConfig pickled before ``marked_words`` existed reads as False, so the tagger
    does not compute words that model never used."""
    import pickle

    old = FeatureConfig(min_df=2, max_features=60000)
    state = dict(old.__dict__)
    del state["marked_words"]
    restored = pickle.loads(pickle.dumps(old))
    assert restored.marked_words is True
    blank = FeatureConfig.__new__(FeatureConfig)
    blank.__setstate__(state)
    assert blank.marked_words is False and blank.min_df == 2
