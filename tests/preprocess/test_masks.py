"""Head masks: one CT rule (HU above HEAD_HU), one MR rule (half Otsu, holes filled), dispatch by modality."""

from __future__ import annotations

import numpy as np
import pytest

from fusion_core.constants import HEAD_HU
from fusion_core.preprocess.masks import ct_head_mask, head_mask, mr_head_mask
from fusion_core.volume import Volume


def _ring_mr(rng) -> np.ndarray:
    """A bright ring (scalp) around a dark core (skull/CSF) in dark air, 6 slices of 32x32."""
    y, x = np.mgrid[:32, :32] - 15.5
    r = np.hypot(y, x)
    slice2d = np.where((r < 12) & (r > 8), 400.0, 0.0) + np.where(r <= 8, 20.0, 0.0)
    return np.repeat(slice2d[None], 6, axis=0) + rng.normal(0, 2, (6, 32, 32))


def test_ct_mask_is_hu_above_the_head_threshold(small_ct):
    mask = ct_head_mask(small_ct.array)
    np.testing.assert_array_equal(mask, small_ct.array > HEAD_HU)
    assert 0 < mask.mean() < 1
    assert not ct_head_mask(small_ct.array, threshold_hu=5000).any()


def test_mr_mask_fills_the_dark_inside_of_the_head(rng):
    array = _ring_mr(rng)
    mask = mr_head_mask(array)
    y, x = np.mgrid[:32, :32] - 15.5
    inside = np.hypot(y, x) < 11.5
    assert mask[:, inside].all()  # the dark core (below Otsu) is filled in
    assert not mask[:, np.hypot(y, x) > 13].any()  # air stays out


def test_mr_mask_of_a_constant_image_is_empty():
    assert not mr_head_mask(np.full((3, 8, 8), 7.0)).any()
    assert mr_head_mask(np.full((3, 8, 8), np.nan)).shape == (3, 8, 8)


def test_head_mask_dispatches_on_modality(small_ct, rng):
    np.testing.assert_array_equal(head_mask(small_ct), small_ct.array > HEAD_HU)
    mr = Volume(_ring_mr(rng).astype(np.float32), modality="MR-T1")
    mask = head_mask(mr)
    np.testing.assert_array_equal(mask, mr_head_mask(mr.array))
    assert not mask.all()  # the CT rule (everything above -500) would have kept the air


def test_fill_holes_per_slice_matches_scipy_slice_by_slice():
    from scipy import ndimage

    from fusion_core.preprocess.masks import fill_holes_per_slice

    rng = np.random.default_rng(3)
    mask = rng.uniform(size=(6, 24, 20)) > 0.45  # many holes and edge-touching regions
    mask[2] = False
    mask[3, 4:12, 4:12] = True
    mask[3, 6:9, 6:9] = False  # a clean hole
    expected = np.stack([ndimage.binary_fill_holes(s) for s in mask])
    np.testing.assert_array_equal(fill_holes_per_slice(mask), expected)
    with pytest.raises(ValueError, match="z, y, x"):
        fill_holes_per_slice(mask[0])


def test_case_head_mask_prefers_the_cases_own_mask_on_its_grid(small_ct, rng):
    from fusion_core.case import Case
    from fusion_core.preprocess.masks import case_head_mask

    own = small_ct.with_array((small_ct.array > 500).astype(np.float32), modality="MASK")
    np.testing.assert_array_equal(case_head_mask(Case("a", ct=small_ct, masks={"head": own})), small_ct.array > 500)
    np.testing.assert_array_equal(case_head_mask(Case("b", ct=small_ct)), small_ct.array > HEAD_HU)
    mr = Volume(_ring_mr(rng).astype(np.float32), modality="MR")
    np.testing.assert_array_equal(case_head_mask(Case("c", mr=mr)), mr_head_mask(mr.array))
