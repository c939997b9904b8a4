"""Figures for pixel-level fusion: fused image as RGB and the fusion-metric comparison."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go

from fusion_core.viz.registration import to_rgb

METRIC_HELP = {
    "MI(A;F)": "information the fused image shares with CT (bits)",
    "MI(B;F)": "information the fused image shares with MR (bits)",
    "MI total": "sum of both (bits)",
    "entropy": "information content of the fused image (bits)",
    "SSIM(A,F)": "structural similarity to CT (1 = identical)",
    "SSIM(B,F)": "structural similarity to MR",
    "Q^AB/F": "share of both sources' edges kept (Xydeas–Petrović, 0..1)",
}


def fused_rgb(fused: np.ndarray) -> np.ndarray:
    """A fused [0, 1] slice (grey or RGB) as uint8 RGB for display."""
    return to_rgb(fused)


def fusion_metrics_figure(
    metrics_by_method: Mapping[str, Mapping[str, float]], *, highlight: str | None = None
) -> go.Figure:
    """Grouped bars: one group per metric, one bar per fusion method (the chosen one outlined)."""
    fig = go.Figure()
    for method, metrics in metrics_by_method.items():
        fig.add_trace(
            go.Bar(
                name=method,
                x=list(metrics),
                y=list(metrics.values()),
                marker_line_width=3 if method == highlight else 0,
                marker_line_color="black",
                hovertext=[METRIC_HELP.get(k, k) for k in metrics],
            )
        )
    fig.update_layout(
        barmode="group", height=320, margin={"t": 30, "b": 40, "l": 50, "r": 10}, legend={"orientation": "h", "y": -0.2}
    )
    return fig
