"""Training and the model file: round trip, determinism, fast path, calibration, plan checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from classifier.engine import Labels, prepare
from classifier.evaluation import HEADLINE
from classifier.features import FastFeaturizer, FeatureConfig, Featurizer
from classifier.matcher import PhraseMatcher
from classifier.model import (
    FORMAT_VERSION,
    ModelFileError,
    PlanMismatchError,
    load_bundle,
    save_bundle,
)
from classifier.tagger import Tagger
from classifier.training import TrainConfig, choose_threshold, fit_label_models, train_model
from dophu.config import Plan
from tests.classifier.conftest import small_training_set

REPO = Path(__file__).resolve().parents[2]

DOCS = [
    {"title": "Kỷ niệm 50 năm Ngày giải phóng miền Nam, thống nhất đất nước",
     "text": "Sáng 29/4, Thành ủy tổ chức lễ kỷ niệm trọng thể.", "published_at": "2025-04-29"},
    {"title": "Dai hoi Dang bo phuong An Binh nhiem ky 2025-2030",
     "text": "Dai hoi bau Ban Chap hanh Dang bo phuong.", "published_at": "2025-06-02"},
    {"title": "Giá vàng hôm nay tăng mạnh", "text": "Giá vàng SJC tăng 500.000 đồng.",
     "published_at": "2025-06-02"},
]


def test_model_round_trip(plan: Plan, small_model: Path, tmp_path: Path) -> None:
    bundle = load_bundle(small_model)
    assert bundle.plan_id == plan.id
    assert bundle.format_version == FORMAT_VERSION
    assert bundle.data_hash == "test"
    assert {"rules", "model", "combined"} <= set(bundle.thresholds)
    before = Tagger(plan, bundle).tag_many(DOCS)
    copy = save_bundle(bundle, tmp_path / "copy.joblib")
    after = Tagger(plan, load_bundle(copy)).tag_many(DOCS)
    assert before == after
    assert [r.relevant for r in after] == [True, True, False]
    assert after[0].anniversaries[0].id == "giai-phong-mien-nam-50"
    assert after[1].themes[0].id == "dai-hoi-dang"


def test_training_is_deterministic(plan: Plan, small_model: Path) -> None:
    again = train_model(plan, small_training_set(plan), TrainConfig(folds=3), data_hash="test")
    first = load_bundle(small_model)
    assert np.array_equal(first.weights, again.weights)
    assert first.thresholds == again.thresholds
    assert np.allclose(first.calibration, again.calibration)


def test_cross_validation_is_also_scored_on_subsets_asked_for(plan: Plan) -> None:
    """Two training sets are compared on the items they share (scripts/data_comparison.py)."""
    items = small_training_set(plan)
    bundle = train_model(plan, items, TrainConfig(folds=3), scored_subsets={
        "every item": lambda item: True,
        "newspapers": lambda item: item.form == "newspaper",
        "none": lambda item: False})
    validation = bundle.info["validation"]
    assert validation["every item"] == validation["all"]
    assert "none" not in validation        # no item to score
    newspapers = validation["newspapers"]["combined"]
    assert set(newspapers) == set(HEADLINE)
    assert 0 < sum(1 for item in items if item.form == "newspaper") < len(items)
    assert newspapers != validation["all"]["combined"]


def test_fast_features_equal_sklearn_transform(plan: Plan) -> None:
    """The plain tables the model file keeps give sklearn's TF-IDF, without sklearn."""
    labels, matcher = Labels(plan), PhraseMatcher(plan)
    inputs = [prepare(labels, matcher, i.title, i.text, i.published_at).model_input
              for i in small_training_set(plan)]
    featurizer = Featurizer(FeatureConfig())
    featurizer.fit_transform(inputs)
    tables = featurizer.tables()
    fast = FastFeaturizer(tables).matrix(inputs[:60])
    slow = featurizer.transform(inputs[:60])
    assert abs(fast - slow).max() < 1e-5
    assert tables.feature_names() == featurizer.feature_names()


def test_tagging_does_not_import_sklearn(small_model: Path) -> None:
    """Reading a model file and tagging need numpy only (sklearn costs every crawl and
    import process about half a second of start-up)."""
    code = ("import sys; from pathlib import Path; from classifier.model import load_bundle; "
            "from classifier.tagger import Tagger; from dophu.config import find_plan_file, "
            "load_plan; plan = load_plan(find_plan_file(Path('config'))); "
            f"tagger = Tagger(plan, load_bundle(Path({str(small_model)!r}))); "
            "print(tagger.tag({'title': 'Kỷ niệm 80 năm Quốc khánh 2/9', 'text': ''}).relevant,"
            " 'sklearn' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, check=True)
    assert done.stdout.split() == ["True", "False"], done.stderr


def test_calibrated_linear_parts_equal_sklearn_predict_proba(plan: Plan) -> None:
    """The model file keeps a linear classifier and its sigmoid; check they are sklearn's."""
    items = small_training_set(plan)
    labels, matcher = Labels(plan), PhraseMatcher(plan)
    inputs = [prepare(labels, matcher, i.title, i.text, i.published_at).model_input
              for i in items]
    y = np.array([int("dai-hoi-dang" in i.labels) for i in items])
    from classifier.features import FeatureConfig, Featurizer

    matrix = Featurizer(FeatureConfig()).fit_transform(inputs)
    calibrated = CalibratedClassifierCV(
        LinearSVC(C=0.5, class_weight="balanced", random_state=0), method="sigmoid",
        ensemble=False, cv=StratifiedKFold(3, shuffle=True, random_state=0)).fit(matrix, y)
    fitted = calibrated.calibrated_classifiers_[0]
    decision = matrix @ fitted.estimator.coef_.ravel() + fitted.estimator.intercept_[0]
    sigmoid = fitted.calibrators[0]
    ours = 1 / (1 + np.exp(sigmoid.a_ * decision + sigmoid.b_))
    assert np.allclose(ours, calibrated.predict_proba(matrix)[:, 1])


def test_thresholds_are_chosen_for_f1() -> None:
    scores = np.array([0.1, 0.2, 0.35, 0.4, 0.8, 0.9])
    truth = np.array([0, 0, 0, 1, 1, 1])
    assert 0.35 < choose_threshold(scores, truth) <= 0.4
    # too few positives to learn from: the default
    assert choose_threshold(scores, np.array([0, 0, 0, 0, 0, 1])) == 0.5


def test_model_for_another_plan_is_refused(plan: Plan, small_model: Path) -> None:
    bundle = load_bundle(small_model)
    other = plan.model_copy(update={"id": "ke-hoach-khac"})
    with pytest.raises(PlanMismatchError, match="trained for plan 'can-tho-chu-de-lon-2025'"):
        bundle.check_plan(other)
    fewer = plan.model_copy(update={"themes": plan.themes[:-1]})
    with pytest.raises(PlanMismatchError, match="not in the plan: dai-doan-ket-an-sinh"):
        bundle.check_plan(fewer)
    with pytest.raises(PlanMismatchError):
        Tagger(other, bundle)


def test_unusable_model_files_say_why(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="model file not found"):
        load_bundle(tmp_path / "none.joblib")
    garbage = tmp_path / "garbage.joblib"
    garbage.write_bytes(b"not a model")
    with pytest.raises(ModelFileError, match="not a readable model file"):
        load_bundle(garbage)
    old = tmp_path / "old.joblib"
    joblib.dump({"format_version": 0, "bundle": None}, old)
    with pytest.raises(ModelFileError, match="model format 0"):
        load_bundle(old)


def test_model_file_is_small(small_model: Path) -> None:
    assert small_model.stat().st_size < 5_000_000


def test_combiner_weights_make_real_items_count_more(plan: Plan) -> None:
    """Where hand-written and real items disagree on how far to trust the model without a
    phrase, the weighted combiner follows the real ones."""
    from classifier.training import fit_combiners

    labels = Labels(plan)
    n, width = 400, len(labels)
    rng = np.random.default_rng(0)
    model_p = np.full((n, width), 0.9)          # the model is confident everywhere
    rules = np.zeros((n, width, 4))             # and no phrase is ever found
    short = np.zeros(n)
    real = np.arange(n) < n // 4
    y = np.zeros((n, width), dtype=bool)
    y[real] = rng.random((int(real.sum()), width)) < 0.9     # real items: the model is right
    known = np.ones((n, width), dtype=bool)
    trained = np.ones(width, dtype=bool)
    rows = np.arange(n)

    def trust(weights: np.ndarray | None) -> float:
        combiner = fit_combiners(labels, model_p, rules, short, y, known, trained, rows, 0,
                                 weights=weights)["theme"]
        features = np.zeros(combiner.coef.shape)
        features[0] = np.log(0.9 / 0.1)            # the model's logit; no phrase, long text
        return float(1 / (1 + np.exp(-(features @ combiner.coef + combiner.intercept))))

    plain, weighted = trust(None), trust(np.where(real, 10.0, 1.0))
    assert plain < 0.5 < weighted


@pytest.mark.parametrize("classifier", ["svm", "logreg"])
def test_both_classifiers_fit_inputs_large_enough_to_be_memory_mapped(classifier: str) -> None:
    """joblib passes inputs over 1 MB to the worker processes as read-only memory maps."""
    rng = np.random.default_rng(0)
    ordered = sp.random(4000, 3000, density=0.03, format="csr", random_state=1,
                        dtype=np.float64)
    # Column indices out of order within rows, as the vectorizers leave them: the case
    # where liblinear's input check rewrites the arrays.
    order = np.concatenate([np.arange(a, b)[::-1] for a, b in
                            zip(ordered.indptr[:-1], ordered.indptr[1:], strict=True)])
    matrix = sp.csr_matrix((ordered.data[order], ordered.indices[order], ordered.indptr),
                           shape=ordered.shape)
    assert not matrix.has_sorted_indices and matrix.data.nbytes > 1_000_000
    y = np.zeros((4000, 2), dtype=np.int64)
    y[:, 0] = np.asarray(matrix[:, :40].sum(axis=1)).ravel() > 0.5
    y[:, 1] = rng.random(4000) < 0.1
    models = fit_label_models(matrix, y, np.ones_like(y, dtype=bool),
                              TrainConfig(classifier=classifier, n_jobs=2))
    assert models.trained.all()
    assert models.probabilities(matrix[:5]).shape == (5, 2)
