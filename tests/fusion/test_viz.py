"""Fusion figure builders."""

from __future__ import annotations

import numpy as np

from fusion_core.fusion import compare_ct_mr
from fusion_core.viz import fusion as fviz


def test_fused_rgb_and_metrics_figure(rng):
    a, b = rng.random((16, 16)), rng.random((16, 16))
    assert fviz.fused_rgb(a).shape == (16, 16, 3)
    table = compare_ct_mr(a * 1000, a, b, methods=["blend", "wavelet"])
    fig = fviz.fusion_metrics_figure(table, highlight="wavelet")
    # Two panels (bits | 0..1 similarity), one bar series per method in each.
    assert [trace.name for trace in fig.data] == ["blend", "wavelet", "blend", "wavelet"]
    assert {trace.xaxis for trace in fig.data} == {"x", "x2"}
    assert all(k.startswith(("SSIM", "Q^")) for trace in fig.data if trace.xaxis == "x2" for k in trace.x)
    assert fig.data[1].marker.line.width == 3 and fig.data[0].marker.line.width == 0
    assert set(table["blend"]) == set(fviz.METRIC_HELP)
    assert np.isfinite(list(table["wavelet"].values())).all()
