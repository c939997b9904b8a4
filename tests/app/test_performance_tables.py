"""The Fusion Performance page's tables and sentences (ui.performance), on hand-made scores files."""

from __future__ import annotations

import pytest

from fusion_core.evaluation.comparison import BoundPosition, evaluate_strategies
from fusion_core.evaluation.roc import AUCResult
from fusion_core.evaluation.strategies import load_strategy_scores
from tests.evaluation.strategy_fixtures import write_strategy_models
from ui.performance import bound_sentence, clinicians_table


@pytest.fixture(scope="module")
def scores(tmp_path_factory):
    return load_strategy_scores(write_strategy_models(tmp_path_factory.mktemp("models"), n=120))


def test_one_threshold_for_all_changes_the_table(scores):
    youden = clinicians_table(evaluate_strategies(scores, n_boot=50))
    fixed = clinicians_table(evaluate_strategies(scores, thresholds=0.9, n_boot=50))
    assert list(fixed.index) == ["CT alone", "MR (T1+T2) alone", "Early fusion", "Product of experts"]
    assert (fixed["Threshold"] == 0.9).all() and not fixed["Youden"].any()
    assert (youden["AUC"] == fixed["AUC"]).all()  # the AUC does not depend on the operating point
    assert (youden["Recall (sensitivity)"] != fixed["Recall (sensitivity)"]).any()
    assert fixed.loc["Early fusion", "Specificity"].count("±") == 1


def test_numeric_table_holds_mean_and_sd_of_each_metric(scores):
    table = clinicians_table(evaluate_strategies(scores, n_boot=50), formatted=False)
    assert {"AUC mean", "AUC sd", "Specificity mean", "Precision sd"} <= set(table.columns)
    assert table["AUC mean"].between(0.5, 1).all() and (table["AUC sd"] > 0).all()


def _auc(point: float, low: float, high: float) -> AUCResult:
    return AUCResult(point, low, high, 50, 50, 1000, 0.05, 0)


def test_bound_sentence_above_inside_below_and_unimodal():
    above = bound_sentence("Early fusion", _auc(0.92, 0.86, 0.97), 0.80, BoundPosition.ABOVE)
    assert above.startswith("**Early fusion**: AUC 0.92 (95 % CI 0.86–0.97)") and "+0.12 above the bound," in above
    assert "not independent Gaussian" in above
    inside = bound_sentence("Late fusion", _auc(0.78, 0.70, 0.86), 0.80, BoundPosition.INSIDE)
    assert "-0.02 from the bound, which lies inside" in inside and "cannot be told apart" in inside
    below = bound_sentence("Late fusion", _auc(0.65, 0.55, 0.74), 0.80, BoundPosition.BELOW)
    assert "0.15 below the bound, the whole interval below" in below and "unused" in below
    assert "one of the two inputs" in bound_sentence("CT alone", _auc(0.7, 0.6, 0.8), 0.8, BoundPosition.INPUT)
