"""Shared display helpers: one MR window (head voxels only), heat-map overlays, a map with its colour bar, the theme."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from fusion_core.errors import FusionError
from fusion_core.viz.display import display_window, heat_range, heatmap_figure, overlay_heatmap
from fusion_core.viz.theme import MODALITY_COLOURS, STRATEGY_COLOURS, TEMPLATE, modality_colour, strategy_colour
from fusion_core.volume import Volume


def _mr(rng, background_share: float) -> Volume:
    """A bright head (values 100..300) in a field of dark noise; ``background_share`` sets the air's size."""
    n = 40
    head = int(n * (1 - background_share) ** (1 / 3))
    array = np.abs(rng.normal(0, 3, (n, n, n)))
    array[:head, :head, :head] = rng.uniform(100, 300, (head, head, head))
    return Volume(array.astype(np.float32), modality="MR-T1")


def test_mr_window_ignores_the_air_around_the_head(rng):
    small_fov, large_fov = _mr(rng, 0.3), _mr(rng, 0.9)
    for volume in (small_fov, large_fov):
        level, width = display_window(volume)
        low, high = level - width / 2, level + width / 2
        assert 95 < low < 110 and 290 < high < 301  # the head's own range, not the air's
    assert display_window(small_fov)[0] == pytest.approx(display_window(large_fov)[0], rel=0.03)


def test_mr_window_of_an_empty_scan_still_has_a_width():
    level, width = display_window(Volume(np.zeros((4, 4, 4), np.float32), modality="MR"))
    assert width > 0 and level == 0


def test_sequential_overlay_colours_high_values_and_keeps_nan_grey():
    base = np.full((2, 3), 0.5, np.float32)
    heat = np.array([[0.0, 1.0, np.nan], [0.5, 0.5, 0.5]])
    rgb = overlay_heatmap(base, heat, alpha=1.0)
    assert rgb.dtype == np.uint8 and rgb.shape == (2, 3, 3)
    np.testing.assert_array_equal(rgb[0, 0], [0, 0, 4])  # Inferno's low end
    np.testing.assert_array_equal(rgb[0, 1], [252, 255, 164])  # Inferno's high end
    np.testing.assert_array_equal(rgb[0, 2], [128, 128, 128])  # NaN: the base shows through


def test_diverging_overlay_is_symmetric_and_clear_at_zero():
    base = np.full((1, 3), 0.5, np.float32)
    rgb = overlay_heatmap(base, np.array([[-10.0, 0.0, 40.0]]), alpha=1.0, diverging=True)
    np.testing.assert_array_equal(rgb[0, 1], [128, 128, 128])  # zero error: no colour
    assert rgb[0, 2, 0] > rgb[0, 2, 2]  # positive: red
    assert rgb[0, 0, 2] > rgb[0, 0, 0]  # negative: blue, faded (|-10| of a +/-40 scale)
    assert heat_range(np.array([-10.0, 40.0]), vmin=None, vmax=None, diverging=True) == (-40.0, 40.0)


def test_overlay_checks_its_inputs():
    with pytest.raises(ValueError, match="one shape"):
        overlay_heatmap(np.zeros((2, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="alpha"):
        overlay_heatmap(np.zeros((2, 2)), np.zeros((2, 2)), alpha=2)
    with pytest.raises(FusionError, match="unknown colour scale 'nope'"):
        overlay_heatmap(np.zeros((2, 2)), np.zeros((2, 2)), cmap="nope")


def test_heatmap_figure_shows_the_map_with_its_colour_bar():
    fig = heatmap_figure(
        np.zeros((4, 5)),
        np.linspace(-3, 1, 20).reshape(4, 5),
        title="CT error",
        colorbar_title="error (HU)",
        diverging=True,
    )
    assert isinstance(fig, go.Figure) and fig.data[0].type == "image"
    marker = fig.data[1].marker
    assert marker.showscale and marker.colorbar.title.text == "error (HU)" and (marker.cmin, marker.cmax) == (-3, 3)


def test_theme_has_a_colour_for_every_strategy_and_modality():
    strategies = ["ct", "mr", "early", "intermediate-concat", "intermediate-tensor", "intermediate-attention", "poe",
                  "late", "hybrid", "uncertainty-late", "classical baseline", "independence bound"]  # fmt: skip
    assert [strategy_colour(s) for s in strategies] == [STRATEGY_COLOURS[s] for s in strategies]
    assert len(set(STRATEGY_COLOURS.values())) == len(STRATEGY_COLOURS)  # no two strategies share a colour
    assert modality_colour("MR") == MODALITY_COLOURS["MR-T1"] == strategy_colour("mr")
    assert len(set(MODALITY_COLOURS.values())) == 3
    assert TEMPLATE.layout.font.size >= 12
    with pytest.raises(FusionError, match="known: ct, mr"):
        strategy_colour("magic")
