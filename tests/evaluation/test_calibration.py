"""ECE, reliability curve and temperature scaling."""

import numpy as np
import pytest

from fusion_core.evaluation import (
    EvaluationError,
    apply_temperature,
    expected_calibration_error,
    fit_temperature,
    probability_to_logit,
    reliability_curve,
)


def test_ece_by_hand():
    labels = [0, 1, 1, 0, 1]
    probs = [0.05, 0.15, 0.95, 0.9, 0.85]
    # bins: 0 {0.05 | 0}, 1 {0.15 | 1}, 8 {0.85 | 1}, 9 {0.95, 0.9 | 1, 0}: gaps 0.05, 0.85, 0.15, 0.425 (x2)
    assert expected_calibration_error(labels, probs) == pytest.approx((0.05 + 0.85 + 0.15 + 2 * 0.425) / 5)
    curve = reliability_curve(labels, probs)
    assert curve.counts.tolist() == [1, 1, 0, 0, 0, 0, 0, 0, 1, 2]
    assert curve.mean_predicted[9] == pytest.approx(0.925) and curve.observed_frequency[9] == 0.5
    assert np.isnan(curve.mean_predicted[4])
    assert curve.bin_centres[0] == pytest.approx(0.05)


def test_probability_one_falls_in_the_last_bin():
    assert reliability_curve([1, 1], [1.0, 0.95], n_bins=10).counts[-1] == 2


def test_ece_near_zero_when_calibrated_and_not_when_distorted():
    rng = np.random.default_rng(2)
    p = rng.random(100_000)
    y = rng.random(100_000) < p
    assert expected_calibration_error(y.astype(int), p) < 0.01
    assert expected_calibration_error(y.astype(int), p**2) > 0.05


def test_temperature_scaling_fixes_an_over_confident_model():
    rng = np.random.default_rng(3)
    z = rng.normal(0, 2, 20_000)
    y = (rng.random(20_000) < 1 / (1 + np.exp(-z))).astype(int)
    logits = 3.0 * z  # three times too confident
    t = fit_temperature(y[:10_000], logits[:10_000])
    assert t == pytest.approx(3.0, rel=0.1)
    before = expected_calibration_error(y[10_000:], apply_temperature(logits[10_000:], 1.0))
    after = expected_calibration_error(y[10_000:], apply_temperature(logits[10_000:], t))
    assert after < 0.02 < before


def test_logit_round_trip_and_errors():
    p = np.array([0.0, 0.2, 0.5, 1.0])
    back = apply_temperature(probability_to_logit(p), 1.0)
    np.testing.assert_allclose(back, p, atol=1.1e-6)  # clipped at eps = 1e-6
    with pytest.raises(EvaluationError, match="within"):
        expected_calibration_error([0, 1], [0.5, 1.5])
    with pytest.raises(EvaluationError, match="temperature"):
        apply_temperature([0.0], 0.0)
