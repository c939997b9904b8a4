"""Slice views: orientation, physical linking, windowing."""

from __future__ import annotations

import numpy as np
import pytest

from fusion_core.viz import views
from fusion_core.volume import Volume


def _marker_volume() -> Volume:
    array = np.zeros((8, 10, 12), np.float32)  # (z, y, x)
    array[6, 2, 9] = 1.0  # superior, anterior, patient-left voxel
    return Volume(array, spacing=(1.0, 2.0, 3.0), modality="CT")


def test_axial_view_is_radiological():
    volume = _marker_volume()
    axial = views.extract_slice(volume, "axial", 6)
    row, col = np.argwhere(axial == 1.0)[0]
    assert row == 2  # anterior near the top
    assert col == 9  # patient left on the image right


def test_coronal_and_sagittal_put_superior_at_the_top():
    volume = _marker_volume()
    coronal = views.extract_slice(volume, views.Plane.CORONAL, 2)
    sagittal = views.extract_slice(volume, views.Plane.SAGITTAL, 9)
    assert np.argwhere(coronal == 1.0)[0][0] == 8 - 1 - 6
    assert np.argwhere(sagittal == 1.0)[0][0] == 8 - 1 - 6


def test_canonical_reorients_ras_storage_to_lps():
    volume = _marker_volume()
    flipped = Volume(
        volume.array[:, ::-1, ::-1],
        spacing=volume.spacing,
        modality="CT",
        origin=volume.index_to_physical([11, 9, 0]),
        direction=(-1, 0, 0, 0, -1, 0, 0, 0, 1),
    )
    assert flipped.orientation_code == "RAS"
    canon = views.canonical(flipped)
    assert canon.orientation_code == "LPS"
    np.testing.assert_array_equal(canon.array, volume.array)
    np.testing.assert_allclose(canon.origin, volume.origin)
    assert views.canonical(flipped) is canon  # a viewer rerun reuses the copy instead of making another
    assert views.canonical(volume) is volume


def test_slices_link_by_physical_position_not_index():
    ct = Volume(np.zeros((20, 10, 10)), spacing=(1, 1, 2.0), origin=(0, 0, 0))
    mr = Volume(np.zeros((40, 10, 10)), spacing=(1, 1, 1.0), origin=(0, 0, -10.0))
    point = views.slice_position_mm(ct, "axial", 5)  # z = 10 mm
    assert point[2] == pytest.approx(10.0)
    assert views.slice_index_at(mr, "axial", point) == 20
    assert views.slice_index_at(mr, "axial", [0, 0, 1e4]) == 39  # clipped


def test_window_maps_level_to_mid_grey():
    out = views.window_to_uint8(np.array([[-1000.0, 40.0, 80.0, 3000.0]]), 40.0, 80.0)
    assert out.tolist() == [[0, 128, 255, 255]]


def test_render_slice_square_pixels_and_overlay():
    volume = _marker_volume()
    mask = (volume.array > 0).astype(np.float32)
    rgb = views.render_slice(volume, "coronal", 2, window=(0.5, 1.0), overlay=mask)
    assert rgb.dtype == np.uint8 and rgb.shape[2] == 3
    assert rgb.shape[:2] == (8 * 3, 12)  # rows: z at 3 mm -> 24 px of 1 mm; cols: x at 1 mm
    assert (rgb[..., 0] > rgb[..., 1]).any()  # red overlay drawn


def test_default_window_is_the_ct_brain_preset_or_the_shared_display_window(small_ct):
    from fusion_core.viz.display import display_window

    assert views.default_window(small_ct) == (40.0, 80.0)
    mr = small_ct.with_array(small_ct.array + 1000, modality="MR")
    assert views.default_window(mr) == display_window(mr)


def test_unknown_plane_lists_choices():
    with pytest.raises(ValueError, match="axial"):
        views.Plane.parse("oblique")


def test_linked_row_shares_scale_and_canvas():
    small = Volume(np.ones((10, 20, 20)), spacing=(1, 1, 1), origin=(-10, -10, -5))
    large = Volume(np.ones((10, 20, 20)), spacing=(2, 2, 1), origin=(-20, -20, -5))
    row = views.render_linked_row({"a": small, "b": large}, "axial", np.zeros(3), {"a": (0.5, 1), "b": (0.5, 1)})
    (image_a, _), (image_b, _) = row["a"], row["b"]
    assert image_a.shape == image_b.shape == (40, 40, 3)  # 40 mm at 1 mm per pixel
    assert (image_a[10:30, 10:30] == 255).all()  # the smaller field of view, centred ...
    margin = np.ones((40, 40), dtype=bool)
    margin[10:30, 10:30] = False
    assert image_a[margin].min() > 0 and image_a[margin].max() < 100  # ... on a hatched margin, never black
    assert image_b.min() == 255


def test_field_of_view_mask_marks_what_a_smaller_scan_covers():
    large = Volume(np.ones((10, 20, 20)), spacing=(2, 2, 1), origin=(-20, -20, -5))
    small = Volume(np.ones((10, 10, 10)), spacing=(1, 1, 1), origin=(0, 0, -5))  # covers x, y in [-0.5, 9.5] mm
    mask = views.field_of_view_mask(small, "axial", np.zeros(3), reference=large)
    assert mask.shape == (20, 20)
    assert mask.sum() == 5 * 5  # large's pixel centres at 0, 2, 4, 6, 8 mm along x and y
    assert not views.field_of_view_mask(small, "axial", np.array([0.0, 0.0, 40.0])).any()  # beyond the last slice
    assert views.field_of_view_mask(small, "coronal", np.array([0.0, 5.0, 40.0])).all()


def test_a_slice_outside_the_scan_says_so_and_is_not_black():
    ct = Volume(np.ones((10, 20, 20)), origin=(-10, -10, -5))
    mr = Volume(np.ones((4, 20, 20)), origin=(-10, -10, -5))  # covers z in [-5.5, -1.5] mm only
    row = views.render_linked_row(
        {"CT": ct, "MR": mr}, "axial", np.array([0.0, 0.0, 3.0]), {"CT": (0.5, 1), "MR": (0.5, 1)}
    )
    outside, _ = row["MR"]
    assert outside.min() > 0 and outside.max() > 200  # hatched grey with light text, not the edge slice
    assert (outside < 255).mean() > 0.9  # not the MR's white voxels of its nearest slice
    assert (row["CT"][0] == 255).all()


@pytest.mark.parametrize(
    "direction",
    [
        (-1, 0, 0, 0, -1, 0, 0, 0, 1),  # RAS storage (most NIfTI files)
        (0, 0, 1, 1, 0, 0, 0, -1, 0),  # a sagittal acquisition
        (0, 1, 0, 0, 0, -1, -1, 0, 0),
        (1, 0, 0, 0, 0, 1, 0, -1, 0),  # coronal
    ],
)
def test_axis_aligned_reorientation_matches_simpleitk(direction):
    import SimpleITK as sitk

    rng = np.random.default_rng(0)
    volume = Volume(rng.normal(size=(5, 6, 7)), spacing=(0.5, 0.8, 2.0), origin=(3.0, -4.0, 5.0), direction=direction)
    ours = views.canonical(volume)
    reference = Volume.from_sitk(sitk.DICOMOrient(volume.to_sitk(), "LPS"))
    np.testing.assert_array_equal(ours.array, reference.array)
    np.testing.assert_allclose(ours.spacing, reference.spacing)
    np.testing.assert_allclose(ours.origin, reference.origin, atol=1e-9)
    np.testing.assert_allclose(ours.direction, reference.direction, atol=1e-9)
