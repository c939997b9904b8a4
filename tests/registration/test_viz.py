"""Registration figure builders return figures/RGB arrays of the right shape."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from fusion_core.registration import MisalignmentProfile, joint_histogram
from fusion_core.viz import registration as rviz


def test_rgb_builders_shapes(rng):
    a, b = rng.random((20, 30)), rng.random((20, 30))
    for rgb in (rviz.checkerboard_rgb(a, b), rviz.blend_rgb(a, b, alpha=0.3), rviz.edge_overlay_rgb(a, b)):
        assert rgb.shape == (20, 30, 3) and rgb.dtype == np.uint8


def test_edge_overlay_marks_the_moving_edge():
    fixed = np.zeros((20, 20))
    moving = np.zeros((20, 20))
    moving[:, 10:] = 1.0
    rgb = rviz.edge_overlay_rgb(fixed, moving)
    coloured = np.all(rgb == rviz.EDGE_RGB, axis=2)
    assert coloured[:, 8:12].any() and not coloured[:, :5].any()


def test_figures(rng):
    fig = rviz.metric_curve_figure([-0.1, -0.3, -0.5], [0, 2])
    assert isinstance(fig, go.Figure) and np.allclose(fig.data[0].y, [0.1, 0.3, 0.5])
    hist = joint_histogram(rng.random(100), rng.random(100), bins=8)
    assert len(rviz.joint_histogram_figure(hist, hist).data) == 2
    assert len(rviz.histograms_figure(rng.random(50), rng.random(50)).data) == 2
    profile = MisalignmentProfile(
        offset_mm=np.arange(3.0), mutual_information=np.ones(3), tre_median_mm=np.full(3, np.nan)
    )
    assert len(rviz.misalignment_profile_figure(profile, current_mm=1.0).data) == 1  # no TRE trace without truth
