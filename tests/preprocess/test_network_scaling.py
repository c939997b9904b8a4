"""Network intensity scaling and slice resizing give the same numbers slab by slab as on the whole volume."""

from __future__ import annotations

import numpy as np
import pytest

from fusion_core.preprocess import network, slices


@pytest.fixture
def volume() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.normal(0.0, 800.0, (37, 20, 24)).astype(np.float32)  # more slices than one slab


def test_slab_mapping_equals_the_whole_volume_mapping(volume):
    assert len(volume) > network.SLAB
    hu = np.interp(np.clip(volume, -1024, 3000), network.CT_KNOTS_HU, network.CT_KNOTS_UNIT).astype(np.float32)
    unit = network.ct_to_unit(volume)
    assert unit.dtype == np.float32 and unit.shape == volume.shape
    np.testing.assert_array_equal(unit, hu)
    np.testing.assert_allclose(network.unit_to_ct(unit), np.clip(volume, -1024, 3000), atol=0.05)
    scaled, stats = network.mr_to_unit(volume + 1000.0, mask=np.ones(volume.shape, bool))
    expected = np.clip(2.0 * (volume + 1000.0 - stats["low"]) / (stats["high"] - stats["low"]) - 1.0, -1, 1)
    np.testing.assert_allclose(scaled, expected, atol=1e-6)
    np.testing.assert_allclose(network.unit_to_mr(scaled), (expected + 1) / 2 * network.MR_DISPLAY_RANGE, atol=1e-3)


@pytest.mark.parametrize("mode, size", [("area", 8), ("bilinear", (30, 36))])
def test_slab_resizing_equals_one_einsum_over_all_slices(volume, mode, size):
    matrix = slices._area_matrix if mode == "area" else slices._bilinear_matrix
    out_y, out_x = (size, size) if isinstance(size, int) else size
    wy, wx = matrix(volume.shape[1], out_y), matrix(volume.shape[2], out_x)
    whole = np.einsum("yi,nij,xj->nyx", wy, volume.astype(np.float64), wx).astype(np.float32)
    resized = slices.resize_slices(volume, size, mode=mode)
    assert resized.dtype == np.float32 and resized.shape == (len(volume), out_y, out_x)
    np.testing.assert_allclose(resized, whole, rtol=1e-6, atol=1e-3)


def test_mapping_in_place_gives_the_same_numbers(volume):
    unit = network.ct_to_unit(volume)
    expected = network.unit_to_ct(unit)
    same = unit.copy()
    assert network.unit_to_ct(same, out=same) is same
    np.testing.assert_array_equal(same, expected)
