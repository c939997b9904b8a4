"""AUC, its bootstrap intervals, paired differences and the ROC band, checked against scikit-learn."""

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

from fusion_core.evaluation import EvaluationError, auc_difference_ci, auc_score, auc_with_ci, roc_curve_points
from fusion_core.evaluation.bootstrap import stratified_indices
from fusion_core.evaluation.roc import BAND_GRID, roc_band


@pytest.mark.parametrize("kind", ["continuous", "rounded", "integer", "all-tied"])
def test_auc_matches_sklearn_on_random_and_tied_scores(rng, kind):
    y = rng.integers(0, 2, 300)
    s = y + rng.normal(0, 1.5, 300)
    s = {"continuous": s, "rounded": np.round(s, 1), "integer": np.round(s), "all-tied": np.zeros(300)}[kind]
    assert auc_score(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_bootstrap_resamples_match_a_sklearn_loop(rng):
    y = rng.integers(0, 2, 80)
    s = np.round(y + rng.normal(0, 1, 80), 1)
    idx = stratified_indices(y, 50, seed=3)
    reference = np.quantile([roc_auc_score(y[i], s[i]) for i in idx], [0.025, 0.975])
    result = auc_with_ci(y, s, n_boot=50, seed=3)
    assert (result.low, result.high) == pytest.approx(tuple(reference), abs=1e-12)


def test_stratified_resamples_keep_class_counts(rng):
    y = rng.integers(0, 2, 40)
    idx = stratified_indices(y, 20, seed=0)
    assert idx.shape == (20, 40)
    assert (y[idx].sum(axis=1) == y.sum()).all()


def test_ci_covers_the_true_auc_at_about_the_nominal_rate():
    d, n = 1.0, 60  # binormal, unit variance: true AUC = Phi(d / sqrt(2))
    truth = norm.cdf(d / np.sqrt(2))
    rng = np.random.default_rng(1)
    hits = []
    for rep in range(100):
        y = np.repeat([0, 1], n)
        r = auc_with_ci(y, rng.normal(d * y, 1.0), n_boot=300, seed=rep)
        hits.append(r.low <= truth <= r.high)
    assert 0.85 <= np.mean(hits) <= 0.99


def test_paired_difference_matches_point_values_and_is_narrower_than_unpaired(rng):
    y = rng.integers(0, 2, 300)
    a = y + rng.normal(0, 1.0, 300)
    b = a + rng.normal(0, 0.3, 300)  # b: a slightly noisier copy of a, so the two are strongly correlated
    d = auc_difference_ci(y, a, b, n_boot=500)
    assert d["difference"] == pytest.approx(auc_score(y, a) - auc_score(y, b))
    assert d["low"] <= d["difference"] <= d["high"]
    ra, rb = auc_with_ci(y, a, n_boot=500), auc_with_ci(y, b, n_boot=500)
    unpaired = np.hypot(ra.high - ra.low, rb.high - rb.low)
    assert d["high"] - d["low"] < 0.5 * unpaired


def test_paired_difference_of_identical_scores_is_exactly_zero(rng):
    y = rng.integers(0, 2, 50)
    s = rng.normal(size=50)
    d = auc_difference_ci(y, s, s, n_boot=100)
    assert (d["difference"], d["low"], d["high"]) == (0.0, 0.0, 0.0)


def test_auc_refuses_bad_inputs_with_evaluation_error():
    with pytest.raises(EvaluationError, match="0 or 1"):
        auc_score([0, 2], [0.1, 0.2])
    with pytest.raises(EvaluationError, match="NaN"):
        auc_score([0, 1], [0.1, np.nan])


def test_roc_band_equals_vertical_averaging_of_sklearn_curves_with_ties():
    rng = np.random.default_rng(1)
    labels = np.repeat([0, 1], 40)
    values = np.round(rng.normal(labels), 1)  # many ties, also across classes
    band = roc_band(labels, values, n_boot=100, seed=3)
    low, high = band.low, band.high
    curves = []
    for rows in stratified_indices(labels, 100, 3):
        fpr, tpr, _ = roc_curve_points(labels[rows], values[rows])
        curves.append(np.interp(BAND_GRID, fpr, tpr))
    np.testing.assert_allclose(low, np.quantile(curves, 0.025, axis=0))
    np.testing.assert_allclose(high, np.quantile(curves, 0.975, axis=0))
    assert (low <= high).all() and high[-1] == 1.0
