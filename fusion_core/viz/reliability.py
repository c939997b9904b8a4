"""Reliability diagrams: observed fraction with a lesion against the mean predicted probability per bin,
before and after temperature scaling. Pure functions returning ``go.Figure``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from fusion_core.evaluation.recalibration import CalibrationResult
from fusion_core.viz.theme import TEMPLATE, colour_of


def reliability_figure(results: Sequence[CalibrationResult], *, after: bool = False) -> go.Figure:
    """Reliability diagram of several strategies: observed fraction with a lesion against the mean predicted
    probability per bin (marker area ~ subjects in the bin).

    Args:
        results: from ``calibrate_strategies``.
        after: draw the temperature-scaled probabilities instead of the raw ones.
    """
    fig = _reliability_axes()
    for r in results:
        ece = r.ece_after if after else r.ece_before
        _add_reliability(
            fig, r.after if after else r.before, r.label, f"{r.label} — ECE {ece:.3f}", colour_of(r.strategy)
        )
    return fig


def reliability_pair_figure(result: CalibrationResult) -> go.Figure:
    """One strategy's reliability diagram before (dashed) and after (solid) temperature scaling."""
    fig = _reliability_axes()
    colour = colour_of(result.strategy)
    _add_reliability(fig, result.before, result.label, f"Raw — ECE {result.ece_before:.3f}", colour, dash="dash")
    t = " / ".join(f"{x:.2f}" for x in result.temperatures)
    _add_reliability(
        fig, result.after, result.label, f"Temperature-scaled (T = {t}) — ECE {result.ece_after:.3f}", colour
    )
    fig.update_layout(title={"text": result.label})
    return fig


def _reliability_axes() -> go.Figure:
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[0, 1], y=[0, 1], mode="lines", line={"color": "#BBBBBB", "dash": "dot"}, name="Perfect calibration"
        )
    )
    fig.update_layout(
        template=TEMPLATE,
        xaxis={"title": "Mean predicted probability of a lesion (per bin)", "range": [0, 1]},
        yaxis={"title": "Observed fraction with a lesion", "range": [0, 1.02]},
        legend={"orientation": "h", "yanchor": "top", "y": -0.18, "x": 0},
        height=520,
        margin={"l": 60, "r": 20, "t": 40, "b": 60},
    )
    return fig


def _add_reliability(fig: go.Figure, curve, label: str, name: str, colour: str, *, dash: str = "solid") -> None:
    keep = curve.counts > 0
    fig.add_trace(
        go.Scatter(
            x=curve.mean_predicted[keep],
            y=curve.observed_frequency[keep],
            mode="lines+markers",
            marker={"size": 4 + 2 * np.sqrt(curve.counts[keep])},
            line={"color": colour, "dash": dash},
            name=name,
            customdata=curve.counts[keep],
            hovertemplate=f"{label}<br>predicted %{{x:.2f}}, observed %{{y:.2f}}<br>%{{customdata}} subjects<extra></extra>",
        )
    )
