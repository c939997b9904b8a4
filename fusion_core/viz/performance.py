"""Figures of the Fusion Performance page: ROC curves with CI bands and the bound, missing-modality bars,
reliability diagrams. Pure functions returning ``go.Figure``; one colour per strategy (``viz.theme``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from fusion_core.evaluation.bootstrap import stratified_indices
from fusion_core.evaluation.bound import independence_bound_roc
from fusion_core.evaluation.comparison import BoundInputs, StrategyEvaluation
from fusion_core.evaluation.recalibration import CalibrationResult
from fusion_core.evaluation.strategies import INPUT_LABELS, INPUT_SETS, strategy_key
from fusion_core.viz.theme import TEMPLATE, strategy_colour

FPR_AXIS = "False positive rate (1 − specificity)"
TPR_AXIS = "True positive rate (sensitivity)"
BAND_GRID = np.linspace(0.0, 1.0, 101)


def colour_of(strategy: str) -> str:
    """Theme colour of a classifier name ("clf-early"); grey for one the theme does not know."""
    try:
        return strategy_colour(strategy_key(strategy))
    except ValueError:
        return "#777777"


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def roc_band(
    labels: np.ndarray, scores: np.ndarray, *, n_boot: int = 200, seed: int = 0, alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise (1 - alpha) bootstrap band of the TPR on :data:`BAND_GRID` (vertical averaging).

    Each stratified resample's ROC curve (ties collapsed to one point, as in ``roc_curve_points``)
    is interpolated at the grid's false positive rates; the band is their pointwise percentiles.

    Returns:
        (low, high): (101,) TPRs at each false positive rate of the grid.
    """
    labels, scores = np.asarray(labels, int), np.asarray(scores, float)
    rows = stratified_indices(labels, n_boot, seed)
    order = np.argsort(-scores[rows], axis=1, kind="stable")
    s, y = np.take_along_axis(scores[rows], order, 1), np.take_along_axis(labels[rows], order, 1)
    tpr, fpr = np.cumsum(y, 1) / y.sum(1, keepdims=True), np.cumsum(1 - y, 1) / (1 - y).sum(1, keepdims=True)
    ends = np.c_[s[:, 1:] != s[:, :-1], np.ones(len(s), bool)]  # last point of each run of equal scores
    curves = [np.interp(BAND_GRID, np.r_[0.0, f[e]], np.r_[0.0, t[e]]) for f, t, e in zip(fpr, tpr, ends, strict=True)]
    low, high = np.quantile(np.array(curves), [alpha / 2, 1 - alpha / 2], axis=0)
    return low, high


def roc_figure(
    evaluations: Sequence[StrategyEvaluation],
    *,
    bands: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
    bound: BoundInputs | None = None,
) -> go.Figure:
    """ROC curves of the strategies, their bootstrap bands, operating points, the bound (dashed) and chance.

    Args:
        evaluations: strategies to draw (from ``evaluate_strategies``).
        bands: strategy -> (low, high) TPR band on :data:`BAND_GRID` (see :func:`roc_band`); None: no bands.
        bound: the independence bound (its binormal ROC is drawn dashed); None: left out.
    """
    fig = go.Figure()
    for e in evaluations:
        colour = colour_of(e.strategy)
        if bands and e.strategy in bands:
            low, high = bands[e.strategy]
            fig.add_trace(
                go.Scatter(
                    x=np.r_[BAND_GRID, BAND_GRID[::-1]],
                    y=np.r_[high, low[::-1]],
                    fill="toself",
                    fillcolor=_rgba(colour, 0.12),
                    line={"width": 0},
                    hoverinfo="skip",
                    showlegend=False,
                    legendgroup=e.strategy,
                    name=f"{e.label} 95 % band",
                )
            )
        fig.add_trace(
            go.Scatter(
                x=e.fpr,
                y=e.tpr,
                mode="lines",
                line={"color": colour, "width": 2.5, "shape": "hv"},
                name=f"{e.label} — AUC {e.auc.auc:.2f} ({e.auc.low:.2f}–{e.auc.high:.2f})",
                legendgroup=e.strategy,
                hovertemplate=f"{e.label}<br>FPR %{{x:.2f}}, TPR %{{y:.2f}}<extra></extra>",
            )
        )
        fpr, tpr = e.operating_point
        fig.add_trace(
            go.Scatter(
                x=[fpr],
                y=[tpr],
                mode="markers",
                marker={"color": colour, "size": 11, "symbol": "circle", "line": {"color": "white", "width": 1.5}},
                showlegend=False,
                legendgroup=e.strategy,
                name=f"{e.label} operating point",
                hovertemplate=f"{e.label} at threshold {e.table.threshold:.3f}<br>"
                "1 − specificity %{x:.2f}, sensitivity %{y:.2f}<extra></extra>",
            )
        )
    if bound is not None:
        grid = np.linspace(0, 1, 201)
        fig.add_trace(
            go.Scatter(
                x=grid,
                y=independence_bound_roc(bound.ct_auc, bound.mr_auc, grid),
                mode="lines",
                line={"color": strategy_colour("independence bound"), "dash": "dash", "width": 2},
                name=f"Independence bound — AUC {bound.bound:.2f}",
            )
        )
    fig.add_trace(
        go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line={"color": "#BBBBBB", "dash": "dot"}, name="Chance — AUC 0.50")
    )
    fig.update_layout(
        template=TEMPLATE,
        xaxis={"title": FPR_AXIS, "range": [0, 1], "constrain": "domain"},
        yaxis={"title": TPR_AXIS, "range": [0, 1.01], "scaleanchor": "x", "scaleratio": 1},
        legend={"title": {"text": "Strategy — AUC (95 % CI)"}, "x": 1.02, "y": 1, "xanchor": "left"},
        height=560,
        margin={"l": 60, "r": 20, "t": 30, "b": 60},
    )
    return fig


def missing_modality_figure(frame: pd.DataFrame) -> go.Figure:
    """Grouped bars: AUC of each strategy with both inputs, CT only and MR only, 95 % CI error bars.

    Args:
        frame: ``missing_modality_aucs`` output (columns strategy, label, inputs, auc, low, high).
    """
    fig = go.Figure()
    order = list(dict.fromkeys(frame["label"]))
    for inputs, pattern in zip(INPUT_SETS, ("", "/", "."), strict=True):
        part = frame[frame["inputs"] == inputs].set_index("label").reindex(order)
        fig.add_trace(
            go.Bar(
                x=order,
                y=part["auc"],
                error_y={"type": "data", "array": part["high"] - part["auc"], "arrayminus": part["auc"] - part["low"]},
                marker={
                    "color": [colour_of(s) if isinstance(s, str) else "#FFFFFF" for s in part["strategy"]],
                    "pattern": {"shape": pattern, "fgcolor": "white"},
                    "line": {"color": "#333333", "width": 0.5},
                },
                name=INPUT_LABELS[inputs],
                hovertemplate="%{x}<br>" + INPUT_LABELS[inputs] + ": AUC %{y:.2f}<extra></extra>",
            )
        )
    fig.add_hline(
        y=0.5, line={"color": "#999999", "dash": "dot"}, annotation_text="chance", annotation_position="top left"
    )
    fig.update_layout(
        template=TEMPLATE,
        barmode="group",
        yaxis={"title": "Subject-level AUC (95 % CI)", "range": [0.3, 1.02]},
        xaxis={"title": "Strategy", "tickangle": -25},
        legend={"title": {"text": "Inputs at test time (bar pattern)"}, "orientation": "h", "y": 1.12},
        height=480,
        margin={"l": 60, "r": 20, "t": 60, "b": 120},
    )
    return fig


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


def shift_figure(baseline: pd.DataFrame, shifted: pd.DataFrame, *, setting_label: str) -> go.Figure:
    """Paired bars per strategy: AUC without shift and under the shift, 95 % CI error bars.

    Args:
        baseline, shifted: ``shift_aucs`` frames (columns strategy, label, auc, low, high) on the same subjects.
        setting_label: the shift in words, for the legend (e.g. "CT: blur +1.0 mm, gain ×0.8").
    """
    fig = go.Figure()
    order = list(baseline["label"])
    for frame, name, opacity in ((baseline, "No shift (same subjects)", 0.45), (shifted, setting_label, 1.0)):
        part = frame.set_index("label").reindex(order)
        fig.add_trace(
            go.Bar(
                x=order,
                y=part["auc"],
                error_y={"type": "data", "array": part["high"] - part["auc"], "arrayminus": part["auc"] - part["low"]},
                marker={"color": [colour_of(s) for s in part["strategy"]], "opacity": opacity},
                name=name,
                hovertemplate="%{x}<br>" + name + ": AUC %{y:.2f}<extra></extra>",
            )
        )
    fig.add_hline(y=0.5, line={"color": "#999999", "dash": "dot"})
    fig.update_layout(
        template=TEMPLATE,
        barmode="group",
        yaxis={"title": "Subject-level AUC (95 % CI)", "range": [0.3, 1.02]},
        xaxis={"title": "Strategy"},
        legend={"title": {"text": "Bars: faint = no shift, solid = shifted"}, "orientation": "h", "y": 1.15},
        height=420,
        margin={"l": 60, "r": 20, "t": 60, "b": 80},
    )
    return fig
