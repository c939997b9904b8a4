"""Figures of the Fusion Performance page: ROC curves with CI bands and the bound, missing-modality bars,
reliability diagrams. Pure functions returning ``go.Figure``; one colour per strategy (``viz.theme``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from fusion_core.evaluation.bound import independence_bound_roc
from fusion_core.evaluation.comparison import BoundInputs, InputSetAUC, StrategyEvaluation
from fusion_core.evaluation.recalibration import CalibrationResult
from fusion_core.evaluation.roc import AUCResult, RocBand
from fusion_core.evaluation.shift import ShiftAUC
from fusion_core.evaluation.strategies import INPUT_LABELS, INPUT_SETS, strategy_key, strategy_label
from fusion_core.viz.theme import TEMPLATE, strategy_colour

FPR_AXIS = "False positive rate (1 − specificity)"
TPR_AXIS = "True positive rate (sensitivity)"


def colour_of(strategy: str) -> str:
    """Theme colour of a classifier name ("clf-early"); grey for one the theme does not know."""
    try:
        return strategy_colour(strategy_key(strategy))
    except ValueError:
        return "#777777"


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def roc_figure(
    evaluations: Sequence[StrategyEvaluation],
    *,
    bands: dict[str, RocBand] | None = None,
    bound: BoundInputs | None = None,
) -> go.Figure:
    """ROC curves of the strategies, their bootstrap bands, operating points, the bound (dashed) and chance.

    Args:
        evaluations: strategies to draw (from ``evaluate_strategies``).
        bands: strategy -> its TPR band (``evaluation.roc.roc_band``); None: no bands.
        bound: the independence bound (its binormal ROC is drawn dashed); None: left out.
    """
    fig = go.Figure()
    for e in evaluations:
        colour = colour_of(e.strategy)
        if bands and e.strategy in bands:
            band = bands[e.strategy]
            fig.add_trace(
                go.Scatter(
                    x=np.r_[band.fpr, band.fpr[::-1]],
                    y=np.r_[band.high, band.low[::-1]],
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
                x=e.roc.fpr,
                y=e.roc.tpr,
                mode="lines",
                line={"color": colour, "width": 2.5, "shape": "hv"},
                name=f"{e.label} — AUC {e.roc.auc.auc:.2f} ({e.roc.auc.low:.2f}–{e.roc.auc.high:.2f})",
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


def _auc_bars(aucs: Mapping[str, AUCResult], order: Sequence[str]) -> dict:
    """Bar heights and 95 % CI error bars of ``aucs`` (strategy -> AUC) over ``order`` (NaN where missing)."""
    point = np.array([aucs[s].auc if s in aucs else np.nan for s in order])
    low = np.array([aucs[s].low if s in aucs else np.nan for s in order])
    high = np.array([aucs[s].high if s in aucs else np.nan for s in order])
    return {
        "x": [strategy_label(s) for s in order],
        "y": point,
        "error_y": {"type": "data", "array": high - point, "arrayminus": point - low},
    }


def missing_modality_figure(aucs: Sequence[InputSetAUC]) -> go.Figure:
    """Grouped bars: AUC of each strategy with both inputs, CT only and MR only, 95 % CI error bars.

    Args:
        aucs: ``missing_modality_aucs`` output.
    """
    fig = go.Figure()
    order = list(dict.fromkeys(a.strategy for a in aucs))
    for inputs, pattern in zip(INPUT_SETS, ("", "/", "."), strict=True):
        part = {a.strategy: a.auc for a in aucs if a.inputs == inputs}
        fig.add_trace(
            go.Bar(
                **_auc_bars(part, order),
                marker={
                    "color": [colour_of(s) if s in part else "#FFFFFF" for s in order],
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


def shift_figure(baseline: Sequence[ShiftAUC], shifted: Sequence[ShiftAUC], *, setting_label: str) -> go.Figure:
    """Paired bars per strategy: AUC without shift and under the shift, 95 % CI error bars.

    Args:
        baseline, shifted: ``shift_aucs`` outputs on the same subjects.
        setting_label: the shift in words, for the legend (e.g. "CT: blur +1.0 mm, gain ×0.8").
    """
    fig = go.Figure()
    order = [a.strategy for a in baseline]
    for aucs, name, opacity in ((baseline, "No shift (same subjects)", 0.45), (shifted, setting_label, 1.0)):
        fig.add_trace(
            go.Bar(
                **_auc_bars({a.strategy: a.auc for a in aucs}, order),
                marker={"color": [colour_of(s) for s in order], "opacity": opacity},
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
