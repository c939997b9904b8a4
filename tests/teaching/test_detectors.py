import itertools

import numpy as np
import pytest

from fusion_core.errors import FusionError
from fusion_core.evaluation import independence_bound
from fusion_core.teaching.detectors import (
    binormal_auc,
    binormal_roc,
    fuse_detectors,
    fused_dprime_correlated,
    simulate_detectors,
)


def test_independent_detectors_add_dprime_squared():
    assert fused_dprime_correlated(1.0, 2.0, 0.0) == pytest.approx(np.sqrt(5.0))


def test_independent_case_matches_the_evaluation_bound():
    closed = fuse_detectors(1.2, 0.7, 0.0)
    assert closed.fused_auc == pytest.approx(independence_bound(closed.auc1, closed.auc2))


def test_identical_detectors_with_correlated_noise_gain_less():
    gains = [fuse_detectors(1.0, 1.0, rho).gain for rho in (0.0, 0.3, 0.6, 0.9)]
    assert all(a > b for a, b in itertools.pairwise(gains))
    # d1 = d2, rho -> 1: two copies of one detector, d'^2 = 2 d^2 / (1 + rho) -> d^2
    assert fused_dprime_correlated(1.0, 1.0, 0.99) == pytest.approx(np.sqrt(2 / 1.99))


def test_negative_correlation_helps_more_than_independence():
    assert fuse_detectors(1.0, 1.0, -0.5).fused_auc > fuse_detectors(1.0, 1.0, 0.0).fused_auc


def test_binormal_roc_area_is_the_auc():
    fpr = np.linspace(0, 1, 20001)
    assert np.trapezoid(binormal_roc(1.3, fpr), fpr) == pytest.approx(binormal_auc(1.3), abs=1e-3)


@pytest.mark.parametrize(("d1", "d2", "rho"), [(1.0, 1.0, 0.0), (1.5, 0.8, 0.5), (1.0, 1.0, 0.9), (0.5, 1.5, -0.4)])
def test_monte_carlo_agrees_with_closed_form(d1, d2, rho):
    closed, sim = fuse_detectors(d1, d2, rho), simulate_detectors(d1, d2, rho, n=20000, seed=1)
    # AUC standard error at n = 20 000 is about 0.004; 0.015 is > 3 SE
    assert sim.fused_auc == pytest.approx(closed.fused_auc, abs=0.015)
    assert sim.auc1 == pytest.approx(closed.auc1, abs=0.015)
    assert sim.auc2 == pytest.approx(closed.auc2, abs=0.015)


def test_simulation_is_seeded():
    a, b = simulate_detectors(1.0, 1.0, 0.3, seed=4), simulate_detectors(1.0, 1.0, 0.3, seed=4)
    assert np.array_equal(a.x1, b.x1) and a.fused_auc == b.fused_auc


def test_correlation_out_of_range_is_an_error():
    with pytest.raises(FusionError, match="correlation"):
        fused_dprime_correlated(1.0, 1.0, 1.0)
