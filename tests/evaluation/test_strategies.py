"""Tidy strategy scores, the comparison of strategies and their place against the bound, on hand-made scores files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fusion_core.evaluation import EvaluationError, auc_score, independence_bound, read_scores
from fusion_core.evaluation.comparison import (
    BoundPosition,
    bound_by_lesion_type,
    bound_position,
    evaluate_strategies,
    missing_modality_aucs,
    operating_point,
    unimodal_bound,
    unimodal_models,
)
from fusion_core.evaluation.roc import AUCResult
from fusion_core.evaluation.strategies import (
    BOTH,
    CT_ONLY,
    MR_ONLY,
    TIDY_COLUMNS,
    input_set,
    load_strategy_scores,
    strategy_label,
)
from tests.evaluation.strategy_fixtures import write_strategy_models


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
    return write_strategy_models(tmp_path_factory.mktemp("models"), n=120)


@pytest.fixture(scope="module")
def scores(model_dirs):
    return load_strategy_scores(model_dirs)


@pytest.mark.parametrize(
    ("subset", "expected"),
    [("CT+MR-T1+MR-T2", BOTH), ("CT+MR-T1", BOTH), ("CT", CT_ONLY), ("MR-T1+MR-T2", MR_ONLY), ("MR-T1", MR_ONLY)],
)
def test_input_set_names_what_the_model_was_given(subset, expected):
    assert input_set(subset) == expected


def test_input_set_refuses_a_subset_without_ct_or_mr():
    with pytest.raises(EvaluationError, match="neither CT nor MR"):
        input_set("PET")


def test_tidy_scores_hold_one_row_per_strategy_subject_and_input_set(scores, model_dirs):
    frame = scores.frame
    assert list(frame.columns) == list(TIDY_COLUMNS)
    # unimodal models: one input set of 120 subjects; early and PoE: three
    assert len(frame) == 120 * (1 + 1 + 3 + 3)
    assert scores.strategies == ["clf-ct", "clf-mr", "clf-early", "clf-poe"]  # unimodal first, then by stage
    assert scores.input_sets("clf-ct") == [CT_ONLY] and scores.input_sets("clf-mr") == [MR_ONLY]
    assert scores.input_sets("clf-poe") == [BOTH, CT_ONLY, MR_ONLY]
    labels, values = scores.scores("clf-early", CT_ONLY)
    raw = read_scores(model_dirs[2]).frame.sort_values("subject_id")
    np.testing.assert_array_equal(values, raw["score[CT]"].to_numpy())
    np.testing.assert_array_equal(labels, raw["label"].to_numpy())


def test_unknown_strategy_is_an_evaluation_error(scores):
    with pytest.raises(EvaluationError, match="clf-nothing"):
        scores.scores("clf-nothing")


def test_evaluations_match_the_auc_and_the_youden_operating_point(scores):
    evaluated = {e.strategy: e for e in evaluate_strategies(scores, n_boot=200)}
    labels, values = scores.scores("clf-poe")
    poe = evaluated["clf-poe"]
    assert poe.label == "Product of experts" and poe.inputs == BOTH
    assert poe.roc.auc.auc == pytest.approx(auc_score(labels, values))
    assert poe.roc.auc.low < poe.roc.auc.auc < poe.roc.auc.high
    assert poe.table.youden
    assert poe.operating_point == operating_point(labels, values, poe.table.threshold)
    fpr, tpr = poe.operating_point
    assert tpr - fpr == pytest.approx(max(poe.roc.tpr - poe.roc.fpr))  # Youden: the point furthest above chance


def test_operating_point_by_hand():
    labels, values = np.array([0, 0, 0, 0, 1, 1]), np.array([0.1, 0.2, 0.6, 0.7, 0.5, 0.9])
    assert operating_point(labels, values, 0.5) == (0.5, 1.0)
    assert operating_point(labels, values, 0.8) == (0.0, 0.5)


def test_unimodal_bound_comes_from_the_two_unimodal_classifiers(scores):
    b = unimodal_bound(scores)
    assert b.ct_auc == pytest.approx(auc_score(*scores.scores("clf-ct")))
    assert b.mr_auc == pytest.approx(auc_score(*scores.scores("clf-mr")))
    assert b.bound == pytest.approx(independence_bound(b.ct_auc, b.mr_auc))
    assert b.bound > max(b.ct_auc, b.mr_auc)


def test_the_cards_decide_which_classifiers_are_unimodal(tmp_path):
    import json
    import shutil

    dirs = write_strategy_models(tmp_path / "models", n=40)
    renamed = []
    for d in dirs:
        strategy = {"clf-ct": "ct", "clf-mr": "mr"}.get(d.name, d.name.removeprefix("clf-"))
        if d.name == "clf-ct":
            d = Path(shutil.move(d, d.with_name("ct-net")))
        (d / "model_card.json").write_text(json.dumps({"task": "classifier", "strategy": strategy, "inputs": []}))
        renamed.append(d)
    scores = load_strategy_scores(renamed)
    assert unimodal_models(scores) == {"CT": "ct-net", "MR": "clf-mr"}
    mr_card = renamed[1] / "model_card.json"
    mr_card.write_text(json.dumps({"task": "classifier", "strategy": "late", "inputs": []}))
    assert unimodal_models(load_strategy_scores(renamed)) == {"CT": "ct-net"}  # the card, not its inputs


def test_bound_needs_both_unimodal_classifiers(scores):
    with pytest.raises(EvaluationError, match="MR-alone classifier"):
        unimodal_bound(scores.select(["clf-ct", "clf-early"]))


def _auc(point: float, low: float, high: float) -> AUCResult:
    return AUCResult(point, low, high, 50, 50, 1000, 0.05, 0)


def test_bound_position_above_inside_below_and_unimodal():
    assert bound_position(_auc(0.92, 0.86, 0.97), 0.80) is BoundPosition.ABOVE
    assert bound_position(_auc(0.78, 0.70, 0.86), 0.80) is BoundPosition.INSIDE
    assert bound_position(_auc(0.65, 0.55, 0.74), 0.80) is BoundPosition.BELOW
    assert bound_position(_auc(0.7, 0.6, 0.8), 0.8, unimodal=True) is BoundPosition.INPUT


def test_bound_by_lesion_type_scores_each_type_against_all_negatives(scores):
    table = {b.lesion_type: b for b in bound_by_lesion_type(scores)}
    assert list(table) == ["calcified", "oedema", "subacute-haemorrhage", None]
    assert table["calcified"].positives == 20 and table[None].positives == 60
    # calcifications show on CT only (by construction): CT alone beats MR alone there, and vice versa
    assert table["calcified"].bound.ct_auc > 0.85 > table["calcified"].bound.mr_auc
    assert table["subacute-haemorrhage"].bound.mr_auc > 0.85 > table["subacute-haemorrhage"].bound.ct_auc
    ct, mr = scores.rows("clf-ct"), scores.rows("clf-mr")
    keep = ((ct["label"] == 0) | (ct["lesion_type"] == "oedema")).to_numpy()
    y, ct_score, mr_score = ct["label"].to_numpy()[keep], ct["score"].to_numpy()[keep], mr["score"].to_numpy()[keep]
    assert table["oedema"].bound.ct_auc == pytest.approx(auc_score(y, ct_score))
    assert table["oedema"].bound.bound == pytest.approx(
        independence_bound(auc_score(y, ct_score), auc_score(y, mr_score))
    )
    assert set(table["oedema"].fusion_aucs) == {"clf-early", "clf-poe"}


def test_missing_modality_structure_and_what_the_models_do(scores):
    aucs = missing_modality_aucs(scores, n_boot=200)
    assert [(a.strategy, a.inputs) for a in aucs] == [
        ("clf-ct", CT_ONLY),
        ("clf-mr", MR_ONLY),
        ("clf-early", BOTH),
        ("clf-early", CT_ONLY),
        ("clf-early", MR_ONLY),
        ("clf-poe", BOTH),
        ("clf-poe", CT_ONLY),
        ("clf-poe", MR_ONLY),
    ]
    assert all(a.auc.low <= a.auc.auc <= a.auc.high for a in aucs)
    handling = {(a.strategy, a.inputs): a.handling for a in aucs}
    assert handling["clf-early", BOTH] == "" and "zero image" in handling["clf-early", CT_ONLY]
    assert "expert" in handling["clf-poe", MR_ONLY]
    assert handling["clf-ct", CT_ONLY] == ""  # its own modality is not "missing"


def test_strategy_label_words_and_unknown_names():
    assert strategy_label("clf-mr") == "MR (T1+T2) alone"
    assert strategy_label("clf-uncertainty-late") == "Uncertainty-weighted late fusion"
    assert strategy_label("my-model") == "my-model"


def test_for_subjects_and_select_restrict_the_table(scores):
    few = scores.for_subjects(["phantom-000", "phantom-061"]).select(["clf-ct", "clf-poe"])
    assert few.strategies == ["clf-ct", "clf-poe"]
    assert set(few.frame["subject_id"]) == {"phantom-000", "phantom-061"}
    assert len(few.frame) == 2 * (1 + 3)
