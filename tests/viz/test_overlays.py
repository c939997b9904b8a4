"""Figures of the Attention & Uncertainty page: clickable overlays and per-modality bars."""

import numpy as np

from fusion_core.viz.overlays import modality_bar_figure, overlay_figure


def test_overlay_has_click_targets_query_and_lesion_outline():
    base = np.linspace(0, 1, 400, dtype=np.float32).reshape(20, 20)
    heat = np.zeros((20, 20))
    heat[5, 5] = 1
    lesion = np.zeros((20, 20), bool)
    lesion[8:12, 8:12] = True
    support = np.zeros((20, 20), bool)
    support[4:16, 4:16] = True
    fig = overlay_figure(
        base, heat, title="t", colorbar_title="c", query_yx=(3, 4), clickable=True, contour=lesion, support=support
    )
    names = [trace.name for trace in fig.data]
    assert {"lesion (truth)", "query location", "click targets"} <= set(names)
    targets = fig.data[names.index("click targets")]
    assert max(targets.x) < 20 and max(targets.y) < 20 and len(targets.x) == 100
    assert fig.layout.clickmode == "event+select"
    image = np.asarray(fig.data[0].z)
    assert np.array_equal(image[0, 0], np.round(np.repeat(base[0, 0] * 255, 3)))  # outside the window: the scan alone


def test_bar_figure_with_reference():
    fig = modality_bar_figure({"CT": 0.2, "MR": 0.8}, title="w", axis_title="weight", reference={"CT": 0.5, "MR": 0.5})
    assert [t.name for t in fig.data] == ["clean", "now"] and list(fig.data[1].y) == [0.2, 0.8]
