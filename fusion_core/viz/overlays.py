"""Maps over a slice a user can click (attention, attribution, uncertainty), and per-modality bars."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go

from fusion_core.viz.display import heatmap_figure
from fusion_core.viz.theme import MODALITY_COLOURS, TEMPLATE

CLICK_STEP = 2  # pixels between the invisible click targets over a slice
BAR_COLOURS = {"CT": MODALITY_COLOURS["CT"], "MR": MODALITY_COLOURS["MR-T1"]}


def click_targets(shape: tuple[int, int], step: int = CLICK_STEP) -> go.Scatter:
    """Invisible markers every ``step`` pixels: a click on the slice selects the one under the pointer."""
    ys, xs = np.mgrid[0 : shape[0] : step, 0 : shape[1] : step]
    return go.Scatter(
        x=xs.ravel(),
        y=ys.ravel(),
        mode="markers",
        marker={"size": 2 * step + 2, "color": "rgba(0,0,0,0)", "symbol": "square"},
        hovertemplate="x %{x}, y %{y}<extra>click to look from here</extra>",
        showlegend=False,
        name="click targets",
    )


def overlay_figure(
    base_unit_2d: np.ndarray,
    heat_2d: np.ndarray,
    *,
    title: str,
    colorbar_title: str,
    query_yx: tuple[int, int] | None = None,
    clickable: bool = False,
    diverging: bool = False,
    contour: np.ndarray | None = None,
    support: np.ndarray | None = None,
    height: int = 420,
) -> go.Figure:
    """:func:`~fusion_core.viz.display.heatmap_figure` with the lesion outline, the query point and click targets.

    Args:
        base_unit_2d: (y, x) grey slice in [0, 1].
        heat_2d: (y, x) map.
        query_yx: a location to mark with a cross (the attention query).
        clickable: add invisible click targets (for ``st.plotly_chart(on_select=...)``).
        contour: (y, x) lesion mask to outline (the truth, on the phantom).
        support: (y, x) where the map exists (the model's window); outside it the scan shows uncoloured.
    """
    if support is not None:
        heat_2d = np.where(np.asarray(support) > 0.5, heat_2d, np.nan)
    fig = heatmap_figure(
        base_unit_2d, heat_2d, title=title, colorbar_title=colorbar_title, diverging=diverging, height=height
    )
    if contour is not None and np.any(contour):
        ys, xs = np.nonzero(_edge(np.asarray(contour) > 0.5))
        fig.add_trace(
            go.Scatter(
                x=xs, y=ys, mode="markers", marker={"size": 2, "color": "#00E5FF"}, name="lesion (truth)",
                hoverinfo="skip", showlegend=True,
            )
        )  # fmt: skip
    if query_yx is not None:
        fig.add_trace(
            go.Scatter(
                x=[query_yx[1]], y=[query_yx[0]], mode="markers", name="query location", hoverinfo="skip",
                marker={"symbol": "x-thin", "size": 16, "line": {"width": 3, "color": "#39FF14"}},
            )
        )  # fmt: skip
    if clickable:
        fig.add_trace(click_targets(np.shape(heat_2d)))
        fig.update_layout(clickmode="event+select", dragmode=False)
    fig.update_layout(legend={"orientation": "h", "y": -0.02, "x": 0})
    return fig


def _edge(mask: np.ndarray) -> np.ndarray:
    inner = mask.copy()
    inner[1:-1, 1:-1] = mask[1:-1, 1:-1] & mask[:-2, 1:-1] & mask[2:, 1:-1] & mask[1:-1, :-2] & mask[1:-1, 2:]
    return mask & ~inner


def modality_bar_figure(
    values: Mapping[str, float],
    *,
    title: str,
    axis_title: str,
    reference: Mapping[str, float] | None = None,
    reference_name: str = "clean",
    value_range: tuple[float, float] | None = None,
    height: int = 300,
) -> go.Figure:
    """One bar per modality (CT blue, MR vermilion), optionally beside a grey reference bar each."""
    names = list(values)
    fig = go.Figure()
    if reference is not None:
        fig.add_trace(
            go.Bar(x=names, y=[reference.get(n, 0.0) for n in names], name=reference_name, marker_color="#BBBBBB")
        )
    fig.add_trace(
        go.Bar(
            x=names,
            y=[values[n] for n in names],
            name="now" if reference is not None else axis_title,
            marker_color=[BAR_COLOURS.get(n, "#777777") for n in names],
            text=[f"{values[n]:.2f}" for n in names],
            textposition="outside",
            showlegend=reference is not None,
        )
    )
    fig.update_yaxes(title_text=axis_title, range=value_range, zeroline=True)
    fig.update_layout(template=TEMPLATE, title=title, height=height, barmode="group", margin={"t": 50, "b": 30})
    return fig
