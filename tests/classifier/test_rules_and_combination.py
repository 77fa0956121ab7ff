"""Rule scores (rule 1: a passing mention is not a subject), phrase reliability, thresholds."""

from __future__ import annotations

import numpy as np

from classifier.engine import Labels, threshold_matrix
from classifier.matcher import PhraseMatcher
from classifier.normalize import Document
from classifier.rules import (
    RULE_THRESHOLD,
    phrase_reliability,
    rule_features,
    rule_score,
    signal_for,
)
from dophu.config import Plan

FILLER = "Người dân trong khu vực tiếp tục sản xuất, chăm sóc lúa và rau màu. " * 20


def signal(plan: Plan, title: str, text: str, label: str):
    doc = Document.from_raw(title, text)
    found = PhraseMatcher(plan).find(doc)
    return signal_for(doc, found.positives.get(label)), len(doc.words)


def test_a_phrase_in_the_title_counts_more_than_one_at_the_end(plan: Plan) -> None:
    in_title, size = signal(plan, "Đại hội Đảng bộ phường Cái Khế", FILLER, "dai-hoi-dang")
    at_end, size_end = signal(plan, "Phường Cái Khế chăm lo sản xuất",
                              FILLER + "Góp phần chào mừng Đại hội Đảng bộ các cấp.",
                              "dai-hoi-dang")
    assert in_title.in_lead and not at_end.in_lead
    assert rule_score(in_title, size) >= 0.8
    # a single passing mention deep in a long text stays under the rules' threshold
    assert rule_score(at_end, size_end) < RULE_THRESHOLD


def test_phrase_reliability_is_learned_from_training_items(plan: Plan) -> None:
    labels = Labels(plan)
    column = labels.ids.index("doi-ngoai")
    texts = [("Kiều bào về quê ăn Tết", True), ("Kiều bào gửi quà về quê", False),
             ("Kiều bào đầu tư vào quê nhà", False)]
    matcher = PhraseMatcher(plan)
    signals, truth = [], []
    for text, gold in texts:
        doc = Document.from_raw(text, "")
        found = matcher.find(doc)
        signals.append([signal_for(doc, found.positives.get(label)) for label in labels.ids])
        truth.append([gold if j == column else False for j in range(len(labels))])
    table = phrase_reliability(signals, truth, labels.ids)["doi-ngoai"]
    assert table["kieu bao"] == (1 + 1) / (3 + 2)
    features = rule_features(signals[0][column], table)
    assert features[:3] == (1.0, 1.0, np.log1p(1))
    assert features[3] == np.log(0.4 / 0.6)


def test_short_documents_get_their_own_thresholds(plan: Plan) -> None:
    labels = Labels(plan)
    thresholds = {"combined": {label: 0.5 for label in labels.ids},
                  "combined:short": {labels.ids[0]: 0.2}}
    cut = threshold_matrix(labels, thresholds, "combined", np.array([1.0, 0.0]))
    assert cut[0, 0] == 0.2 and cut[1, 0] == 0.5
    assert cut[0, 1] == 0.5  # no short threshold for that label: the general one
    rules_only = threshold_matrix(labels, None, "combined", np.array([1.0]))
    assert (rules_only == RULE_THRESHOLD).all()
