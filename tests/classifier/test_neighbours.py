"""Precedents: the nearest labelled items, their votes, and how they reach tags and training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from classifier.engine import Labels
from classifier.evidence import precedent_evidence
from classifier.model import load_bundle
from classifier.neighbours import ALWAYS_KEPT_DF, NeighbourIndex, Precedent
from classifier.tagger import Tagger
from classifier.training import TrainConfig, fit_featurizer, out_of_fold, prepare_training
from dophu.config import Plan
from tests.classifier.conftest import small_training_set


def _rows(*rows: dict[int, float], width: int = 6) -> sp.csr_matrix:
    dense = np.zeros((len(rows), width), dtype=np.float32)
    for r, row in enumerate(rows):
        for column, value in row.items():
            dense[r, column] = value
    norms = np.linalg.norm(dense, axis=1, keepdims=True)
    return sp.csr_matrix(dense / np.where(norms > 0, norms, 1))


def test_common_words_are_left_out_of_the_similarity() -> None:
    # word 0 is in every item; words 1-5 in one item each
    n = 2 * ALWAYS_KEPT_DF
    items = _rows(*[{0: 1, 1 + i % 4: 1} if i < 4 else {0: 1} for i in range(n)])
    labels = np.zeros((n, 1), dtype=bool)
    labels[0] = True
    index = NeighbourIndex.build(items, labels, np.ones_like(labels), ["t"] * n, k=2,
                                 max_df=0.5)
    assert index.postings[0].nnz == 0 and index.postings[1].nnz == 1
    # a query sharing only the common word with every item has no neighbour at all
    indexes, similarities = index.nearest(_rows({0: 1, 5: 1}))
    assert (similarities == 0).all()
    indexes, similarities = index.nearest(_rows({0: 1, 3: 1}))
    assert indexes[0, 0] == 2 and similarities[0, 0] > 0 and similarities[0, 1] == 0


def test_votes_weigh_the_nearest_by_similarity_among_known_labels() -> None:
    items = _rows({1: 1}, {1: 1, 2: 1}, {1: 1, 3: 3}, {4: 1})
    labels = np.array([[1, 0], [0, 1], [1, 1], [1, 1]], dtype=bool)
    known = np.array([[1, 1], [1, 0], [1, 1], [1, 1]], dtype=bool)
    index = NeighbourIndex.build(items, labels, known, list("abcd"), k=3, max_df=1.0)
    query = _rows({1: 1})
    votes = index.votes(query)
    sims = (items @ query.T).toarray().ravel()          # a 1, b 0.71, c 0.32, d 0
    first = (sims[0] + sims[2]) / (sims[0] + sims[1] + sims[2])
    second = sims[2] / (sims[0] + sims[2])              # b does not know the second label
    assert votes[0, 0, 0] == pytest.approx(first, rel=1e-5)
    assert votes[0, 1, 0] == pytest.approx(second, rel=1e-5)
    # the nearest item (a, similarity 1) has the first label, not the second
    assert votes[0, 0, 1] == pytest.approx(1.0, rel=1e-5) and votes[0, 1, 1] == 0.0
    # a query like nothing in the index gets no vote
    assert (index.votes(_rows({5: 1})) == 0).all()


def test_nearest_is_the_same_one_by_one_and_in_a_batch() -> None:
    rng = np.random.default_rng(0)
    items = sp.random(300, 80, density=0.05, format="csr", random_state=2, dtype=np.float32)
    labels = rng.random((300, 3)) < 0.3
    index = NeighbourIndex.build(items, labels, np.ones_like(labels), ["x"] * 300, k=5,
                                 max_df=0.5)
    queries = sp.random(20, 80, density=0.08, format="csr", random_state=3, dtype=np.float32)
    batch = index.votes(queries)
    near, sims = index.nearest(queries)
    for row in range(20):
        assert np.allclose(index.votes(queries[row]), batch[row:row + 1])
        one = queries[row]
        found, similarities = index.nearest_row(one.indices, one.data)
        assert np.allclose(similarities, sims[row:row + 1], atol=1e-6)
        assert np.allclose(index.vote(found, similarities), batch[row:row + 1], atol=1e-6)
    assert index.nearest_row(np.zeros(0, dtype=np.int64), np.zeros(0))[1].sum() == 0


def test_precedent_evidence_names_the_nearest_item_with_the_label() -> None:
    precedents = [Precedent("Gian hàng của một công ty tại triển lãm A80", 0.8, False),
                  Precedent("Khai mạc triển lãm thành tựu đất nước 80 năm", 0.6, True),
                  Precedent("Người dân xếp hàng xem triển lãm", 0.5, True)]
    assert precedent_evidence(precedents) == (
        "tin đã gán nhãn gần nhất: 2/3 có nhãn này, như «Khai mạc triển lãm thành tựu "
        "đất nước 80 năm»")
    assert precedent_evidence([]) is None
    long = precedent_evidence([Precedent("chữ " * 40, 0.9, True)], limit=20)
    assert long is not None and long.endswith("chữ…»")


def test_out_of_fold_votes_never_come_from_the_item_itself(plan: Plan) -> None:
    """An item is its own nearest neighbour (similarity 1); the votes that train the
    combiner must come from the other folds, as they will for a new document."""
    items = small_training_set(plan, 120)
    config = TrainConfig(folds=3, neighbours=3)
    data = prepare_training(plan, items, config)
    _, matrix = fit_featurizer([p.model_input for p in data.prepared], config)
    _, _, votes = out_of_fold(Labels(plan), data, matrix, config)
    assert votes is not None and votes.shape == (*data.y.shape, 2)
    index = NeighbourIndex.build(matrix, data.y, data.known, [i.title for i in items], 1,
                                 config.neighbour_max_df)
    _, itself = index.nearest(matrix)
    assert np.median(itself[:, 0]) > 0.9      # with itself in the index (common words out)
    assert votes[:, :, 1].max() < 0.8         # out of fold: 0.48 at most here


def test_a_trained_model_keeps_its_precedents_and_quotes_them(plan: Plan,
                                                               small_model: Path) -> None:
    bundle = load_bundle(small_model)
    assert bundle.neighbours is not None and len(bundle.neighbours) == len(
        small_training_set(plan))
    tagger = Tagger(plan, bundle)
    result = tagger.tag({"title": "Kỷ niệm 80 năm Cách mạng Tháng Tám và Quốc khánh 2/9",
                         "text": "Lễ diễu binh, diễu hành tại Quảng trường Ba Đình.",
                         "published_at": "2025-09-02T08:00:00+07:00"})
    tag = next(t for t in result.anniversaries if t.id == "quoc-khanh-80")
    assert any(e.startswith("tin đã gán nhãn gần nhất: ") for e in tag.evidence)


def test_a_model_without_precedents_still_scores(plan: Plan, small_model: Path) -> None:
    """Models trained before precedents existed (or with neighbours=0) have combiners
    that do not read them."""
    from classifier.training import train_model

    bundle = train_model(plan, small_training_set(plan), TrainConfig(folds=3, neighbours=0))
    assert bundle.neighbours is None
    width = {len(c.coef) for c in bundle.combiners.values()}
    with_precedents = {len(c.coef) for c in load_bundle(small_model).combiners.values()}
    assert width and with_precedents and max(width) < min(with_precedents)
    result = Tagger(plan, bundle).tag({"title": "Kỷ niệm 80 năm Quốc khánh 2/9",
                                       "published_at": "2025-09-01"})
    assert "quoc-khanh-80" in [t.id for t in result.anniversaries]
    assert not any("tin đã gán nhãn" in e for t in result.anniversaries for e in t.evidence)


def test_a_small_index_keeps_every_word() -> None:
    items = _rows({0: 1, 1: 1}, {0: 1, 2: 1}, {0: 1, 3: 1})
    labels = np.zeros((3, 1), dtype=bool)
    index = NeighbourIndex.build(items, labels, np.ones_like(labels), list("abc"), k=2,
                                 max_df=0.01)
    assert index.postings.nnz == items.nnz


def test_the_index_survives_pickling_at_half_precision() -> None:
    import pickle

    items = sp.random(300, 80, density=0.05, format="csr", random_state=2, dtype=np.float32)
    labels = np.random.default_rng(0).random((300, 3)) < 0.3
    index = NeighbourIndex.build(items, labels, np.ones_like(labels), ["x"] * 300, k=5,
                                 max_df=0.5)
    copy = pickle.loads(pickle.dumps(index))
    assert copy.postings.dtype == np.float32 and copy.titles == index.titles
    queries = sp.random(20, 80, density=0.08, format="csr", random_state=3, dtype=np.float32)
    assert np.allclose(copy.votes(queries), index.votes(queries), atol=2e-3)
    assert (copy.nearest(queries)[0] == index.nearest(queries)[0]).mean() > 0.95


def test_an_item_without_a_title_is_named_by_its_first_words(plan: Plan) -> None:
    from dataclasses import replace

    from classifier.training import neighbour_index

    items = small_training_set(plan, 30)
    items[0] = replace(items[0], title="", text="Bài đăng không có tiêu đề " + items[0].text)
    config = TrainConfig(folds=3)
    data = prepare_training(plan, items, config)
    _, matrix = fit_featurizer([p.model_input for p in data.prepared], config)
    index = neighbour_index(data, matrix, np.arange(len(items)), config)
    assert index.titles[0].startswith("Bài đăng không có tiêu đề")
    assert index.titles[1] == items[1].title
