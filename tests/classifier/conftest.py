"""Fixtures for the classifier tests: the default plan, a small corpus, trained models."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifier.corpus import LabelledItem, load_corpus
from classifier.tagger import Tagger
from classifier.training import TrainConfig, train_model
from dophu.config import Plan, load_plan
from tests.conftest import DEFAULT_PLAN


@pytest.fixture(scope="session")
def plan() -> Plan:
    return load_plan(DEFAULT_PLAN)


@pytest.fixture(scope="session")
def rules_tagger(plan: Plan) -> Tagger:
    """The tagger with no model: the plan's phrases and the dates alone."""
    return Tagger(plan, None)


def small_training_set(plan: Plan, size: int = 240) -> list[LabelledItem]:
    """A fixed, small slice of the training split (every label represented when possible).

    Only hand-written items: the real news files keep growing as more items are
    labelled, and a slice that took them in would change (and so would the small
    model and what it tags) with every labelling round.
    """
    items = sorted((i for i in load_corpus(plan).train if i.form != "real"), key=lambda i: i.id)
    chosen: dict[str, LabelledItem] = {}
    for label in plan.label_ids("theme") + plan.label_ids("anniversary"):
        for item in [i for i in items if label in i.labels][:8]:
            chosen[item.id] = item
    for item in [i for i in items if not i.labels][:80]:
        chosen[item.id] = item
    return sorted(chosen.values(), key=lambda i: i.id)[:size]


@pytest.fixture(scope="session")
def small_model(plan: Plan, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained on a small slice, saved in a temporary directory."""
    from classifier.model import save_bundle

    bundle = train_model(plan, small_training_set(plan), TrainConfig(folds=3),
                         data_hash="test")
    return save_bundle(bundle, tmp_path_factory.mktemp("models") / f"{plan.id}.joblib")


@pytest.fixture(scope="session")
def shipped(plan: Plan) -> Tagger:
    """The tagger with the model shipped in the package."""
    from classifier.model import load_bundle, packaged_model_path

    path = packaged_model_path(plan.id)
    if not path.exists():
        pytest.fail(f"the packaged model is missing: {path} (run 'make model')")
    return Tagger(plan, load_bundle(path))
