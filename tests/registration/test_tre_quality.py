"""TRE, TRE points and the ground-truth-free quality indicators."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from fusion_core.registration import (
    alignment_quality,
    gradient_correlation,
    joint_histogram,
    misalignment_effect,
    mutual_information,
    sample_points_in_mask,
    target_registration_error,
)
from fusion_core.volume import Volume


def test_tre_of_a_pure_shift_is_the_shift_length():
    shifted = sitk.TranslationTransform(3, (3.0, 4.0, 0.0))
    points = np.array([[0.0, 0, 0], [10, -5, 2]])
    np.testing.assert_allclose(
        target_registration_error(shifted, sitk.Transform(3, sitk.sitkIdentity), points), [5.0, 5.0]
    )


def test_tre_of_a_rotation_grows_with_distance_from_centre():
    rotation = sitk.Euler3DTransform((0.0, 0.0, 0.0), 0.0, 0.0, np.pi / 2)
    distances = target_registration_error(rotation, sitk.Euler3DTransform(), np.array([[1.0, 0, 0], [2.0, 0, 0]]))
    np.testing.assert_allclose(distances, [np.sqrt(2), 2 * np.sqrt(2)])


def test_tre_rejects_badly_shaped_points():
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        target_registration_error(sitk.Euler3DTransform(), sitk.Euler3DTransform(), np.zeros((4, 2)))


def test_points_fall_inside_the_mask():
    mask = np.zeros((8, 8, 8), np.float32)
    mask[2:4, 3:5, 5:7] = 1
    vol = Volume(mask, spacing=(2.0, 2.0, 3.0), origin=(10.0, 0.0, 0.0))
    points = sample_points_in_mask(vol, 100, seed=1)
    assert points.shape == (8, 3)  # only 8 voxels available
    index = np.rint(vol.physical_to_index(points)).astype(int)
    assert np.all(mask[index[:, 2], index[:, 1], index[:, 0]] == 1)
    with pytest.raises(ValueError, match="mask is empty"):
        sample_points_in_mask(vol.with_array(np.zeros_like(mask)))


def test_mutual_information_of_two_level_images_is_one_bit():
    a = np.array([0.0, 0, 1, 1] * 4)
    assert mutual_information(a, a, bins=2) == pytest.approx(1.0)
    assert mutual_information(a, 5 - 3 * a, bins=2) == pytest.approx(1.0)  # invariant to remapping
    b = np.array([0.0, 1] * 8)
    assert mutual_information(a, b, bins=2) == pytest.approx(0.0)


def test_joint_histogram_counts_every_masked_voxel(rng):
    a, b = rng.normal(size=(5, 6)), rng.normal(size=(5, 6))
    counts, edges_a, edges_b = joint_histogram(a, b, bins=4, mask=a > 0)
    assert counts.shape == (4, 4) and counts.sum() == (a > 0).sum()
    assert len(edges_a) == len(edges_b) == 5


def test_gradient_correlation_ignores_edge_polarity():
    x = np.zeros((12, 12))
    x[3:9, 3:9] = 1.0
    assert gradient_correlation(x, -x) == pytest.approx(1.0)
    assert gradient_correlation(x, np.roll(x, 3, axis=1)) < 0.5


def test_alignment_quality_agrees_with_its_three_indicators(rng):
    a = rng.normal(size=(4, 10, 10))
    b = a + rng.normal(scale=0.5, size=a.shape)
    mask = a > -1
    quality = alignment_quality(a, b, mask=mask)
    assert quality.mutual_information == pytest.approx(mutual_information(a, b, mask=mask))
    assert quality.gradient_correlation == pytest.approx(gradient_correlation(a, b, mask=mask))
    assert quality.joint_histogram[0].sum() == mask.sum()
    assert (
        alignment_quality(a, a).mutual_information
        > alignment_quality(a, rng.permutation(a.ravel()).reshape(a.shape)).mutual_information
    )


def test_misalignment_lowers_mi_and_raises_tre(synthetic_pair):
    points = sample_points_in_mask(synthetic_pair.head, 50)
    kwargs = {"true_transform": synthetic_pair.true_transform, "points_mm": points}
    good = misalignment_effect(synthetic_pair.ct, synthetic_pair.mr, synthetic_pair.true_transform, **kwargs)
    bad = misalignment_effect(
        synthetic_pair.ct,
        synthetic_pair.mr,
        synthetic_pair.true_transform,
        shift_mm=(8, 0, 0),
        rotation_deg=(0, 0, 5),
        **kwargs,
    )
    assert np.max(good.tre_mm) < 1e-6 and np.min(bad.tre_mm) > 2
    assert bad.mutual_information < good.mutual_information
    assert bad.gradient_correlation < good.gradient_correlation
    assert bad.tre_median_mm == pytest.approx(float(np.median(bad.tre_mm)))


def test_ct_head_mask_is_air_free_ct_and_none_for_mr(small_ct):
    from fusion_core.registration import ct_head_mask

    mask = ct_head_mask(small_ct)
    assert mask.dtype == bool and mask.any() and not mask.all()
    assert (small_ct.array[mask] > -500).all() and (small_ct.array[~mask] <= -500).all()
    assert ct_head_mask(small_ct.with_array(small_ct.array, modality="MR")) is None


def test_tre_before_after_compares_with_the_scans_as_they_came():
    import SimpleITK as sitk

    from fusion_core.registration import tre_before_after

    true = sitk.TranslationTransform(3, (3.0, 4.0, 0.0))
    points = np.array([[0.0, 0.0, 0.0], [10.0, -5.0, 2.0]])
    perfect = tre_before_after(true, true, points)
    assert perfect.median_after == 0 and perfect.max_after == 0
    assert perfect.median_before == pytest.approx(5.0) and perfect.max_before == pytest.approx(5.0)
    half = tre_before_after(sitk.TranslationTransform(3, (3.0, 0.0, 0.0)), true, points)
    assert half.median_after == pytest.approx(4.0) and half.before_mm.shape == (2,)
