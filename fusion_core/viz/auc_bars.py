"""Bar charts of AUCs with their 95 % intervals, one colour per strategy: with a modality missing, and
without and under a domain shift. Pure functions returning ``go.Figure``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from fusion_core.evaluation.comparison import InputSetAUC
from fusion_core.evaluation.roc import AUCResult
from fusion_core.evaluation.shift import ShiftAUC
from fusion_core.evaluation.strategies import INPUT_LABELS, INPUT_SETS, strategy_label
from fusion_core.viz.theme import TEMPLATE, colour_of


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
