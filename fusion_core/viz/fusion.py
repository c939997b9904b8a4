"""Figures for pixel-level fusion: fused image as RGB and the fusion-metric comparison."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

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
    """Grouped bars, one bar per fusion method (the chosen one outlined), in two panels.

    Each panel has its own scale: information in bits (MI, entropy) and similarity on 0..1 (SSIM,
    Q^AB/F).
    """
    panels = (("information (bits)", lambda k: not _is_unit_metric(k)), ("similarity (0–1)", _is_unit_metric))
    fig = make_subplots(rows=1, cols=2, subplot_titles=[title for title, _ in panels], column_widths=[0.55, 0.45])
    colours = dict(zip(metrics_by_method, _PALETTE * 3, strict=False))
    for col, (_, wanted) in enumerate(panels, start=1):
        for method, metrics in metrics_by_method.items():
            keys = [k for k in metrics if wanted(k)]
            fig.add_trace(
                go.Bar(
                    name=method,
                    x=keys,
                    y=[metrics[k] for k in keys],
                    marker_color=colours[method],
                    marker_line_width=3 if method == highlight else 0,
                    marker_line_color="white",
                    hovertext=[METRIC_HELP.get(k, k) for k in keys],
                    showlegend=col == 1,
                    legendgroup=method,
                ),
                row=1,
                col=col,
            )
    fig.update_yaxes(range=[0, 1], row=1, col=2)
    fig.update_layout(
        barmode="group", height=340, margin={"t": 40, "b": 40, "l": 50, "r": 10}, legend={"orientation": "h", "y": -0.2}
    )
    return fig


_PALETTE = ["#4fb3ff", "#ff8c42", "#7bd389", "#e86a92", "#c3a6ff"]


def _is_unit_metric(name: str) -> bool:
    return name.startswith(("SSIM", "Q^"))
