"""Calibration of strategies before and after temperature scaling: cross-fitted on test, or fitted on validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fusion_core.evaluation import (
    apply_temperature,
    expected_calibration_error,
    fit_temperature,
    probability_to_logit,
)
from fusion_core.evaluation.recalibration import (
    CROSS_FIT,
    VALIDATION,
    calibrate_strategies,
    calibrate_strategy,
    calibration_frame,
    cross_fitted_probabilities,
    stratified_folds,
)
from fusion_core.evaluation.scores_io import ScoresTable
from fusion_core.evaluation.strategies import strategy_scores


def _overconfident(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Calibrated logits z (P(y=1) = sigmoid(z)) reported as sigmoid(4 z): far too sure."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 1.5, n)
    labels = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    return labels, 1 / (1 + np.exp(-4 * z))


def _table(name: str, labels: np.ndarray, probs: np.ndarray, split: str) -> ScoresTable:
    frame = pd.DataFrame(
        {
            "subject_id": [f"s{i:04d}" for i in range(len(labels))],
            "label": labels,
            "lesion_type": np.where(labels == 1, "calcified", "none"),
            "site": "A",
            "spec": "demo",
            "split": split,
            "score[CT]": probs,
        }
    )
    return ScoresTable(frame, name=name)


def test_stratified_folds_split_each_class_in_halves():
    labels = np.array([0] * 10 + [1] * 7)
    folds = stratified_folds(labels, seed=3)
    assert sorted(np.bincount(folds[labels == 0])) == [5, 5]
    assert sorted(np.bincount(folds[labels == 1])) == [3, 4]


def test_cross_fitting_calibrates_each_half_with_the_other_halfs_temperature():
    labels, probs = _overconfident(200, seed=1)
    calibrated, temperatures = cross_fitted_probabilities(labels, probs, seed=0)
    folds, logits = stratified_folds(labels, seed=0), probability_to_logit(probs)
    for k in (0, 1):
        t_other = fit_temperature(labels[folds != k], logits[folds != k])
        assert temperatures[k] == pytest.approx(t_other)
        np.testing.assert_allclose(calibrated[folds == k], apply_temperature(logits[folds == k], t_other))
        assert t_other != pytest.approx(fit_temperature(labels[folds == k], logits[folds == k]), rel=1e-3)
    assert all(t > 1.5 for t in temperatures)  # over-confident: T > 1


def test_temperature_scaling_lowers_ece_of_an_overconfident_strategy():
    labels, probs = _overconfident(400, seed=2)
    scores = strategy_scores([_table("clf-ct", labels, probs, "test")])
    result = calibrate_strategy(scores, "clf-ct")
    assert result.fitted_on == CROSS_FIT
    assert result.ece_before == pytest.approx(expected_calibration_error(labels, probs))
    assert result.ece_after < 0.6 * result.ece_before
    assert result.before.counts.sum() == result.after.counts.sum() == 400


def test_validation_scores_fit_one_temperature_there():
    labels, probs = _overconfident(300, seed=4)
    val_labels, val_probs = _overconfident(300, seed=5)
    test = strategy_scores([_table("clf-ct", labels, probs, "test")])
    val = strategy_scores([_table("clf-ct", val_labels, val_probs, "val")], split="val")
    result = calibrate_strategy(test, "clf-ct", validation=val)
    t = fit_temperature(val_labels, probability_to_logit(val_probs))
    assert result.fitted_on == VALIDATION and result.temperatures == (pytest.approx(t),)
    expected = expected_calibration_error(labels, apply_temperature(probability_to_logit(probs), t))
    assert result.ece_after == pytest.approx(expected)


def test_calibration_frame_one_row_per_strategy(tmp_path):
    from fusion_core.evaluation.strategies import load_strategy_scores
    from tests.evaluation.strategy_fixtures import write_strategy_models

    scores = load_strategy_scores(write_strategy_models(tmp_path, n=60))
    frame = calibration_frame(calibrate_strategies(scores))
    assert list(frame.index) == ["CT alone", "MR (T1+T2) alone", "Early fusion", "Product of experts"]
    assert list(frame.columns) == ["ECE before", "ECE after temperature scaling", "Temperature", "Fitted on"]
    assert frame["ECE before"].between(0, 1).all()
    assert frame.loc["Early fusion", "Temperature"].count("/") == 1  # one temperature per fold
