import numpy as np
import pytest

from fusion_core.evaluation import (
    auc_difference_ci,
    auc_score,
    auc_with_ci,
    bone_dice,
    fit_tissue_mapper,
    image_metrics,
    mae_hu,
    psnr,
    roc_curve_points,
    ssim,
)


def test_auc_known_values():
    assert auc_score([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert auc_score([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]) == 0.0
    assert auc_score([0, 1], [0.5, 0.5]) == 0.5


def test_auc_matches_sklearn(rng):
    from sklearn.metrics import roc_auc_score

    y = rng.integers(0, 2, 200)
    s = y + rng.normal(0, 1.5, 200)
    assert auc_score(y, s) == pytest.approx(roc_auc_score(y, s))


def test_bootstrap_ci_brackets_and_shrinks(rng):
    y = rng.integers(0, 2, 400)
    s = y + rng.normal(0, 1.0, 400)
    small = auc_with_ci(y[:60], s[:60], n_boot=300)
    big = auc_with_ci(y, s, n_boot=300)
    assert small.low <= small.auc <= small.high
    assert big.high - big.low < small.high - small.low
    assert auc_with_ci(y, s, n_boot=300, seed=1) != auc_with_ci(y, s, n_boot=300, seed=2)


def test_difference_ci_sign(rng):
    y = rng.integers(0, 2, 300)
    good, bad = y + rng.normal(0, 0.5, 300), y + rng.normal(0, 3, 300)
    d = auc_difference_ci(y, good, bad, n_boot=300)
    assert d["low"] > 0


def test_auc_errors():
    with pytest.raises(ValueError, match="both classes"):
        auc_score([1, 1], [0.2, 0.3])
    with pytest.raises(ValueError, match="differ in length"):
        auc_score([0, 1], [0.2])


def test_roc_points():
    fpr, tpr, _ = roc_curve_points([0, 1, 0, 1], [0.1, 0.9, 0.3, 0.7])
    assert fpr[0] == 0 and tpr[-1] == 1


def test_image_metrics_on_known_images():
    true = np.full((8, 16, 16), 40.0)  # 3-D SSIM needs at least 3 voxels along every axis
    true[:, :4] = 1000.0
    mask = np.ones_like(true, bool)
    assert mae_hu(true + 10, true, mask) == pytest.approx(10.0)
    assert psnr(true + 10, true, mask) == pytest.approx(20 * np.log10(4024 / 10))
    assert ssim(true, true, mask) == pytest.approx(1.0)
    assert bone_dice(true, true, mask) == 1.0
    assert bone_dice(np.full_like(true, 40.0), true, mask) == 0.0
    over, top = np.full_like(true, 5000.0), np.full_like(true, 3000.0)
    assert mae_hu(over, top) == 2000.0  # SynthRAD2023 clips for PSNR and SSIM, not for the MAE
    assert psnr(over, top) == float("inf") and ssim(over, top) == pytest.approx(1.0)
    assert set(image_metrics(true, true, mask)) == {"mae_hu", "psnr_db", "ssim", "bone_dice"}
    with pytest.raises(ValueError, match="mask is empty"):
        mae_hu(true, true, np.zeros_like(mask))


def test_tissue_mapper_learns_class_means(rng):
    mr = rng.choice([-0.8, 0.0, 0.7], size=(4, 20, 20)) + rng.normal(0, 0.02, (4, 20, 20))
    hu = np.select([mr < -0.4, mr < 0.35], [1000.0, 40.0], 30.0)
    head = np.ones_like(mr, bool)
    mapper = fit_tissue_mapper(mr, hu, head, n_classes=3)
    assert mae_hu(mapper.predict(mr, head), hu, head) < 1.0
    assert np.all(mapper.predict(mr, ~head) == -1000)
