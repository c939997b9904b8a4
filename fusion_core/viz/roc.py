"""ROC curves: each strategy's curve with its bootstrap band and operating point, the independence
bound (dashed) and chance. Pure functions returning ``go.Figure``; one colour per strategy (``viz.theme``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from fusion_core.evaluation.bound import independence_bound_roc
from fusion_core.evaluation.comparison import BoundInputs, StrategyEvaluation
from fusion_core.evaluation.roc import RocBand
from fusion_core.viz.theme import TEMPLATE, colour_of, strategy_colour

FPR_AXIS = "False positive rate (1 − specificity)"
TPR_AXIS = "True positive rate (sensitivity)"


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
