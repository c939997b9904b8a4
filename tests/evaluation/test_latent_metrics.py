"""Latent-space metrics on constructed latents with known answers."""

import numpy as np
import pytest

from fusion_core.errors import FusionError
from fusion_core.evaluation.latent_metrics import canonical_correlations, modality_mixing, separability


@pytest.fixture(scope="module")
def rng():
    return np.random.default_rng(0)


def test_mixing_perfect_vs_separated(rng):
    z = rng.normal(size=(200, 5))
    groups = np.repeat(["CT", "MR"], 100)
    mixed = modality_mixing(z, groups, k=10)  # the same cloud for both groups
    assert mixed.ideal == pytest.approx(100 / 199)
    assert mixed.score == pytest.approx(1.0, abs=0.1)
    apart = modality_mixing(z + np.where(groups == "CT", 50.0, 0.0)[:, None], groups, k=10)
    assert apart.observed == 0.0 and apart.score == 0.0


def test_mixing_refuses_one_group(rng):
    with pytest.raises(FusionError, match="two groups"):
        modality_mixing(rng.normal(size=(10, 2)), np.zeros(10))


def test_separability_separated_vs_random(rng):
    labels = np.repeat([0, 1], 100)
    subjects = np.repeat(np.arange(20), 10)
    z = rng.normal(size=(200, 4))
    apart = separability(z + 20 * labels[:, None], labels, subjects)
    assert apart.silhouette > 0.8 and apart.knn_accuracy == 1.0 and apart.chance == 0.5
    mixed = separability(z, labels, subjects)
    assert abs(mixed.silhouette) < 0.1 and abs(mixed.knn_accuracy - 0.5) < 0.2


def test_separability_leaves_out_unknown_labels(rng):
    labels = np.r_[np.repeat([0.0, 1.0], 50), np.full(10, np.nan)]
    result = separability(rng.normal(size=(110, 3)), labels, np.arange(110) // 5)
    assert 0 <= result.knn_accuracy <= 1


def test_cca_recovers_a_planted_correlation(rng):
    n, rho = 2000, 0.8
    shared = rng.normal(size=n)
    x = np.c_[shared, rng.normal(size=(n, 7))] @ rng.normal(size=(8, 8))
    y = np.c_[rho * shared + np.sqrt(1 - rho**2) * rng.normal(size=n), rng.normal(size=(n, 5))] @ rng.normal(
        size=(6, 30)
    )
    correlations = canonical_correlations(x, y, n_components=3)
    assert correlations[0] == pytest.approx(rho, abs=0.03)
    assert correlations[1] < 0.15  # the other directions are independent
    assert np.all(np.diff(correlations) <= 0)


def test_cca_refuses_unpaired_rows(rng):
    with pytest.raises(FusionError, match="paired rows"):
        canonical_correlations(rng.normal(size=(20, 3)), rng.normal(size=(19, 3)))
