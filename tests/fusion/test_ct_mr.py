"""CT/MR fusion inputs: colour fusion paints the bone-window CT; every other method fuses the displayed CT."""

from __future__ import annotations

import numpy as np
import pytest

from fusion_core.fusion import DEFAULT_FUSION_METHOD, FusionMethod, compare_ct_mr, fuse_ct_mr, fusion_inputs
from fusion_core.preprocess import WINDOW_PRESETS, apply_window


@pytest.fixture
def pair(rng):
    ct_hu = rng.uniform(-1000, 2000, (32, 32)).astype(np.float32)
    return ct_hu, apply_window(ct_hu, 40, 80), rng.uniform(0, 1, (32, 32)).astype(np.float32)


def test_colour_fusion_takes_the_bone_window_ct(pair):
    ct_hu, ct_unit, mr = pair
    a, b, options = fusion_inputs("colour", ct_hu, ct_unit, mr)
    np.testing.assert_array_equal(a, apply_window(ct_hu, *WINDOW_PRESETS["bone"]))
    assert b is mr and options == {"threshold": 0.45}
    assert fuse_ct_mr(ct_hu, ct_unit, mr, method="colour").shape == (32, 32, 3)


def test_other_methods_fuse_the_displayed_ct(pair):
    ct_hu, ct_unit, mr = pair
    a, _, options = fusion_inputs("blend", ct_hu, ct_unit, mr)
    assert a is ct_unit and options == {}
    np.testing.assert_allclose(fuse_ct_mr(ct_hu, ct_unit, mr, method="blend", options={"alpha": 0.0}), ct_unit)
    assert DEFAULT_FUSION_METHOD is FusionMethod.LAPLACIAN


def test_compare_scores_every_method_including_colour(pair):
    table = compare_ct_mr(*pair, {"blend": {"alpha": 0.2}})
    assert list(table) == [m.value for m in FusionMethod]
    assert all(0 <= row["SSIM(A,F)"] <= 1 for row in table.values())
    with pytest.raises(ValueError, match="unknown fusion method 'mosaic'"):
        fusion_inputs("mosaic", *pair)
