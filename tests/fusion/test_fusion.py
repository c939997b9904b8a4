"""Pixel-level fusion methods and fusion metrics against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from fusion_core.fusion import (
    alpha_blend,
    checkerboard,
    colour_fusion,
    entropy,
    fuse,
    fuse_volume,
    fusion_metrics,
    laplacian_pyramid,
    qabf,
    reconstruct_laplacian,
    ssim,
    to_unit,
)

# Q for a perfectly kept edge: both sigmoids at strength ratio 1 and orientation agreement 1.
Q_PERFECT = 0.9994 / (1 + np.exp(-15 * 0.5)) * 0.9879 / (1 + np.exp(-22 * 0.2))


@pytest.fixture
def pair(rng):
    a = np.zeros((32, 32), np.float32)
    a[8:24, 8:24] = 1.0
    b = np.clip(rng.normal(0.4, 0.1, (32, 32)), 0, 1).astype(np.float32)
    b[4:12, 20:30] = 0.9
    return a, b


def test_blend_and_checkerboard_by_hand():
    a, b = np.zeros((4, 4)), np.ones((4, 4))
    np.testing.assert_allclose(alpha_blend(a, b, alpha=0.25), 0.25)
    np.testing.assert_array_equal(checkerboard(a, b, tiles=2), [[0, 0, 1, 1], [0, 0, 1, 1], [1, 1, 0, 0], [1, 1, 0, 0]])
    with pytest.raises(ValueError, match="alpha must be in"):
        alpha_blend(a, b, alpha=2)
    with pytest.raises(ValueError, match="same shape"):
        alpha_blend(a, np.ones((3, 4)))


def test_colour_fusion_paints_only_bright_overlay():
    grey = np.full((2, 2), 0.5)
    overlay = np.array([[0.0, 1.0], [0.4, 1.0]])
    rgb = colour_fusion(grey, overlay, threshold=0.5, colour=(1.0, 0.0, 0.0), opacity=1.0)
    assert rgb.shape == (2, 2, 3)
    np.testing.assert_allclose(rgb[0, 0], [0.5, 0.5, 0.5])
    np.testing.assert_allclose(rgb[0, 1], [1.0, 0.0, 0.0])


def test_laplacian_pyramid_reconstructs(pair):
    a, _ = pair
    np.testing.assert_allclose(reconstruct_laplacian(laplacian_pyramid(a, 3)), a, atol=1e-5)


@pytest.mark.parametrize("method", ["laplacian", "wavelet"])
def test_multiscale_fusion_of_an_image_with_itself_is_the_image(pair, method):
    a, b = pair
    np.testing.assert_allclose(fuse(b, b, method=method), b, atol=1e-4)
    fused = fuse(a, b, method=method)
    assert fused.shape == a.shape and fused.min() >= 0 and fused.max() <= 1
    # keeps the sources' edges better than a plain average does
    assert qabf(a, b, fused) > qabf(a, b, alpha_blend(a, b)) + 0.05


def test_fuse_volume_and_unknown_method(pair):
    a, b = pair
    out = fuse_volume(np.stack([a, a]), np.stack([b, b]), method="colour")
    assert out.shape == (2, 32, 32, 3)
    with pytest.raises(ValueError, match="allowed values: 'blend', 'checkerboard'"):
        fuse(a, b, method="pca")


def test_entropy_by_hand():
    assert entropy(np.array([0.0, 0.0, 1.0, 1.0])) == pytest.approx(1.0)
    assert entropy(np.array([0.0, 0.3, 0.6, 0.9]), bins=4) == pytest.approx(2.0)
    assert entropy(np.zeros(10)) == pytest.approx(0.0)


def test_ssim_of_identical_images_is_one(pair):
    a, b = pair
    assert ssim(a, a) == pytest.approx(1.0)
    assert ssim(a, b) < 0.5


def test_qabf_by_hand(pair):
    a, _ = pair
    assert qabf(a, a, a) == pytest.approx(Q_PERFECT, rel=1e-6)
    assert qabf(a, a, np.zeros_like(a)) < 0.01  # every edge lost
    flat = np.zeros((8, 8))
    assert qabf(flat, flat, flat) == 0.0


def test_fusion_metrics_keys_and_values(pair):
    a, b = pair
    metrics = fusion_metrics(a, b, a)
    assert set(metrics) == {"MI(A;F)", "MI(B;F)", "MI total", "entropy", "SSIM(A,F)", "SSIM(B,F)", "Q^AB/F"}
    assert metrics["SSIM(A,F)"] == pytest.approx(1.0) and metrics["MI(A;F)"] > metrics["MI(B;F)"]
    assert metrics["MI total"] == pytest.approx(metrics["MI(A;F)"] + metrics["MI(B;F)"])
    laplacian = fusion_metrics(a, b, fuse(a, b, method="laplacian"))
    blend = fusion_metrics(a, b, fuse(a, b, method="blend"))
    assert laplacian["Q^AB/F"] > blend["Q^AB/F"]  # multiscale fusion keeps edges better than averaging


def test_to_unit_is_robust():
    out = to_unit(np.array([0.0, 1, 2, 3, 1000]), lower=0, upper=80)
    assert out.max() == 1.0 and out.min() == 0.0
    np.testing.assert_array_equal(to_unit(np.ones(5)), 0.0)
