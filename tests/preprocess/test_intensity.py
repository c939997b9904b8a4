"""Normaliser invariants, window presets, resampling, N4 and the dispatcher."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from fusion_core.preprocess import (
    WINDOW_PRESETS,
    apply_window,
    histogram_match,
    mr_to_ct_scale,
    n4_bias_correct,
    normalise,
    percentile_clip,
    resample_to,
    zscore,
    zscore_volume,
)
from fusion_core.volume import Volume


def test_zscore_has_mean_zero_std_one_inside_mask(rng):
    array = rng.gamma(2.0, 50.0, size=(6, 7, 8))
    mask = array > 60
    out, params = zscore(array, mask)
    assert out[mask].mean() == pytest.approx(0, abs=1e-5) and out[mask].std() == pytest.approx(1, abs=1e-5)
    assert params["mean"] == pytest.approx(array[mask].mean())
    replay, _ = zscore(array, mean=params["mean"], std=params["std"])
    np.testing.assert_allclose(replay, out)


def test_zscore_errors_name_the_problem():
    with pytest.raises(ValueError, match="constant image"):
        zscore(np.ones((3, 3)))
    with pytest.raises(ValueError, match="mask is empty"):
        zscore(np.arange(9.0), np.zeros(9, bool))
    with pytest.raises(ValueError, match="does not match image shape"):
        zscore(np.arange(9.0), np.ones(4, bool))


def test_percentile_clip_bounds(rng):
    array = rng.normal(size=1000)
    out, params = percentile_clip(array, lower=5, upper=95)
    assert out.min() == pytest.approx(np.percentile(array, 5)) and out.max() == pytest.approx(params["high"])
    with pytest.raises(ValueError, match="lower < upper"):
        percentile_clip(array, lower=50, upper=10)


def test_histogram_match_moves_quantiles_to_reference(rng):
    source = rng.exponential(10.0, size=5000)
    reference = rng.normal(100.0, 20.0, size=3000)
    out, params = histogram_match(source, reference)
    for q in (10, 50, 90):
        assert np.percentile(out, q) == pytest.approx(np.percentile(reference, q), rel=0.02)
    assert len(params["source_quantiles"]) == 101


def test_mr_to_ct_scale_takes_ct_statistics(rng):
    mr, ct = rng.gamma(3, 100, size=500), rng.normal(40, 10, size=400)
    out, params = mr_to_ct_scale(mr, None, ct, None)
    assert out.mean() == pytest.approx(ct.mean(), abs=1e-3) and out.std() == pytest.approx(ct.std(), rel=1e-3)
    assert params["mr_std"] == pytest.approx(mr.std())


def test_apply_window_maps_level_to_half():
    level, width = WINDOW_PRESETS["brain"]
    out = apply_window(np.array([-1000.0, level, level + width / 4, 3000.0]), level, width)
    np.testing.assert_allclose(out, [0.0, 0.5, 0.75, 1.0])
    assert WINDOW_PRESETS["bone"] == (600.0, 2800.0) and WINDOW_PRESETS["soft tissue"] == (50.0, 400.0)
    with pytest.raises(ValueError, match="width must be positive"):
        apply_window(np.zeros(3), 0, 0)


def test_resample_to_same_grid_is_identity(small_ct):
    out = resample_to(small_ct, small_ct)
    np.testing.assert_allclose(out.array, small_ct.array, atol=1e-3)
    assert out.modality == "CT"


def test_resample_through_a_shift_moves_content(small_ct):
    # Reference point p samples the input at p + 1 voxel (1.5 mm) along x.
    shift = sitk.TranslationTransform(3, (1.5, 0.0, 0.0))
    out = resample_to(small_ct, small_ct, transform=shift, interpolator="nearest")
    np.testing.assert_allclose(out.array[:, :, :-1], small_ct.array[:, :, 1:])
    assert out.array[:, :, -1].max() == pytest.approx(small_ct.array.min())  # default fill: the minimum
    with pytest.raises(ValueError, match="allowed values: 'nearest', 'linear', 'bspline'"):
        resample_to(small_ct, small_ct, interpolator="cubic")


def test_n4_flattens_a_smooth_bias():
    z, y, x = np.mgrid[:24, :24, :24]
    truth = np.where((x - 12) ** 2 + (y - 12) ** 2 + (z - 12) ** 2 < 100, 500.0, 0.0) + 1.0
    bias = 1.0 + 0.4 * (x / 23.0)
    vol = Volume((truth * bias).astype(np.float32), spacing=(2.0, 2.0, 2.0), modality="MR")
    result = n4_bias_correct(vol, shrink=2)
    inside = truth > 100

    def spread(a):
        return np.std(a[inside]) / np.mean(a[inside])

    assert spread(result.volume.array) < 0.5 * spread(vol.array)
    assert result.params["method"] == "n4" and result.params["bias_max"] > result.params["bias_min"]


def test_normalise_dispatches_and_validates(small_ct):
    result = normalise(small_ct, "ct_window", preset="bone")
    assert result.params["level"] == 600 and 0 <= result.volume.array.min() <= result.volume.array.max() <= 1
    assert zscore_volume(small_ct).params["method"] == "zscore"
    with pytest.raises(ValueError, match="needs a reference image"):
        normalise(small_ct, "histogram_match")
    with pytest.raises(ValueError, match="allowed values: 'ct_window'"):
        normalise(small_ct, "minmax")
    with pytest.raises(ValueError, match="unknown window preset 'lung'"):
        normalise(small_ct, "ct_window", preset="lung")
