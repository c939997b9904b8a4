"""Figures of the Cross-modal Generation page: stitched panels, one colour bar, maps on square pixels."""

from __future__ import annotations

import numpy as np

from fusion_core.viz.panels import ColourBar, comparison_rows, linked_map_panels, panel_grid_figure, stitch_panels
from fusion_core.volume import Volume


def _volume(value: float, modality: str = "CT") -> Volume:
    array = np.full((6, 8, 10), value, dtype=np.float32)
    return Volume(
        array, spacing=(1.0, 1.0, 2.0), origin=(0.0, 0.0, 0.0), direction=tuple(np.eye(3).ravel()), modality=modality
    )


def test_stitched_panels_are_centred_in_equal_cells_with_transparent_gaps():
    small, large = np.full((4, 6, 3), 200, np.uint8), np.full((8, 10, 3), 50, np.uint8)
    canvas, anchors = stitch_panels([[small, large], [large]])
    assert canvas.shape[2] == 4 and len(anchors) == 3
    assert canvas[..., 3].sum() == 255 * (small.size + 2 * large.size) // 3  # only the panels are opaque
    assert anchors[0][1] < anchors[2][1]  # second row below the first


def test_panel_grid_figure_has_one_image_titles_and_one_colour_bar():
    panels = [[(np.zeros((8, 8, 3), np.uint8), "a"), (np.zeros((8, 8, 3), np.uint8), "b")]]
    fig = panel_grid_figure(panels, bar=ColourBar.signed(300, "error (HU)"))
    kinds = [trace.type for trace in fig.data]
    assert kinds == ["image", "scatter"] and fig.data[1].marker.cmin == -300
    assert [a.text for a in fig.layout.annotations] == ["a", "b"]


def test_error_maps_follow_the_cursor_in_three_planes_and_one_column_per_model():
    real, generated = _volume(0.0), _volume(100.0)
    error = real.with_array(generated.array - real.array)
    bar = ColourBar.signed(200, "error (HU)")
    point = real.index_to_physical([5, 4, 3])
    panels = linked_map_panels(real, error, point, window=(40, 400), bar=bar)
    assert [title.split()[0] for _, title in panels] == ["axial", "coronal", "sagittal"]
    assert panels[1][0].shape[0] == 12  # coronal: 6 slices of 2 mm drawn on 1 mm pixels
    assert (panels[0][0][..., 0] > panels[0][0][..., 2]).all()  # positive error is red
    rows = comparison_rows(
        {"model": generated, "real CT": real}, {"model": error}, "axial", point, window=(40, 400), bar=bar
    )
    assert [len(row) for row in rows] == [2, 1]
