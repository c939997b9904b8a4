"""Fusion figure builders."""

from __future__ import annotations

import numpy as np

from fusion_core.fusion import compare_methods
from fusion_core.viz import fusion as fviz


def test_fused_rgb_and_metrics_figure(rng):
    a, b = rng.random((16, 16)), rng.random((16, 16))
    assert fviz.fused_rgb(a).shape == (16, 16, 3)
    table = compare_methods(a, b, ["blend", "wavelet"])
    fig = fviz.fusion_metrics_figure(table, highlight="wavelet")
    assert [trace.name for trace in fig.data] == ["blend", "wavelet"]
    assert fig.data[1].marker.line.width == 3 and set(table["blend"]) == set(fviz.METRIC_HELP)
    assert np.isfinite(list(table["wavelet"].values())).all()
