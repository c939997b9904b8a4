"""The ideal-observer independence bound against simulation."""

import numpy as np
import pytest
from scipy.stats import norm

from fusion_core.evaluation import auc_score, dprime, independence_bound, independence_bound_roc


@pytest.mark.parametrize(("d_a", "d_b"), [(0.8, 1.2), (1.0, 1.0), (0.3, 1.5)])
def test_bound_matches_the_optimal_fused_score_on_gaussian_samples(d_a, d_b):
    rng = np.random.default_rng(7)
    n = 20_000
    y = np.repeat([0, 1], n // 2)
    a, b = rng.normal(d_a * y, 1.0), rng.normal(d_b * y, 1.0)
    # log-likelihood ratios of unit-variance Gaussian evidence are d_i * x_i + const; their sum is optimal
    fused = auc_score(y, d_a * a + d_b * b)
    auc_a, auc_b = norm.cdf(d_a / np.sqrt(2)), norm.cdf(d_b / np.sqrt(2))
    assert independence_bound(auc_a, auc_b) == pytest.approx(fused, abs=0.01)
    assert independence_bound(auc_score(y, a), auc_score(y, b)) == pytest.approx(fused, abs=0.01)


def test_bound_edge_cases_and_clipping():
    assert independence_bound(0.5, 0.5) == 0.5
    assert independence_bound(0.5, 0.8) == pytest.approx(0.8)
    assert independence_bound(0.7, 0.8) > 0.8
    assert independence_bound(0.3, 0.8) == independence_bound(0.5, 0.8)  # below chance: worthless, not flipped
    assert 0.999 < independence_bound(1.0, 0.6) <= 1.0  # AUC 1 clipped, d' stays finite
    assert dprime(0.5) == 0.0
    assert dprime(norm.cdf(1.0 / np.sqrt(2))) == pytest.approx(1.0)


def test_bound_roc_is_binormal_with_the_bound_auc():
    fpr = np.linspace(0, 1, 20_001)
    tpr = independence_bound_roc(0.7, 0.75, fpr)
    assert tpr[0] == 0.0 and tpr[-1] == 1.0 and np.all(np.diff(tpr) >= 0)
    assert np.trapezoid(tpr, fpr) == pytest.approx(independence_bound(0.7, 0.75), abs=1e-3)
