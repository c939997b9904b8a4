"""Where the scan viewer's crosshair starts, and where the Attention page's one-slice maps land."""

from __future__ import annotations

import numpy as np

from fusion_core.case import Case
from fusion_core.viz.views import Plane
from fusion_core.volume import Volume
from ui import attention as att
from ui.viewer import _png_start, _webgl_spec


def _ct() -> Volume:
    array = np.linspace(-1000, 1000, 10 * 12 * 14, dtype=np.float32).reshape(10, 12, 14)
    return Volume(array, spacing=(0.8, 0.9, 2.5), origin=(-5, 7, 20), modality="CT")


def test_the_crosshair_starts_at_the_given_point_and_a_new_point_reopens_the_viewer():
    ct = _ct()
    centre, _ = _webgl_spec({"CT": ct}, {}, {}, {}, "axial", None)
    point = ct.index_to_physical([3, 4, 7])
    started, _ = _webgl_spec({"CT": ct}, {}, {}, {}, "axial", None, point)
    assert np.allclose(centre["cursor_mm"], ct.index_to_physical([7, 6, 5]))  # default: the centre voxel
    assert np.allclose(started["cursor_mm"], point)
    assert started["key"] != centre["key"]  # the browser rebuilds only when the spec (and its key) changes


def test_png_sliders_start_at_the_given_point():
    ct = _ct()
    start = _png_start(ct, ct.index_to_physical([3, 4, 7]))
    assert start == {Plane.SAGITTAL: 3, Plane.CORONAL: 4, Plane.AXIAL: 7} and _png_start(ct, None) == {}


def test_a_slice_map_lands_on_its_slice_and_a_click_there_reads_back_the_pixel():
    ct = _ct()
    case = Case(subject_id="s", ct=ct)
    values = np.zeros(ct.shape[1:], dtype=np.float32)
    values[4, 9] = 1.0
    heat = att.slice_map_volume(case, 6, values)
    peak_mm = heat.index_to_physical([9, 4, 0])
    assert np.allclose(peak_mm, ct.index_to_physical([9, 4, 6]))
    assert np.allclose(ct.physical_to_index(peak_mm), [9, 4, 6])  # a click there is pixel (y 4, x 9) of slice 6
    assert np.allclose(att.query_mm(case, 6, (4, 9)), peak_mm)
