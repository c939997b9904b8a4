"""Shared display helpers: the MR display window, heat-map overlays on a slice, a map with its colour bar.

Every page uses these, so the same scan and the same kind of map look the same everywhere.
"""

from __future__ import annotations

import functools

import numpy as np
import plotly.graph_objects as go
from _plotly_utils.exceptions import PlotlyError
from plotly.colors import get_colorscale, sample_colorscale

from fusion_core.errors import FusionError
from fusion_core.preprocess.masks import head_mask
from fusion_core.preprocess.window import apply_window
from fusion_core.viz.theme import TEMPLATE
from fusion_core.volume import Volume

DISPLAY_PERCENTILES = (1.0, 99.5)
SEQUENTIAL_CMAP = "Inferno"
DIVERGING_CMAP = "RdBu_r"  # blue negative, red positive, white at zero


def display_window(volume: Volume, *, percentiles: tuple[float, float] = DISPLAY_PERCENTILES) -> tuple[float, float]:
    """(level, width) between two percentiles of the voxels inside the head (the MR display window).

    The head mask (:func:`fusion_core.preprocess.masks.head_mask`) keeps air out of the statistics, so
    one MR gets one window whatever its field of view, and looks the same on every page.

    Args:
        volume: any scan; for MR this is the window every page uses (CT pages offer HU presets).
        percentiles: (low, high) in [0, 100].

    Returns:
        (level, width) in the volume's units; width > 0.
    """
    mask = head_mask(volume)
    values = volume.array[mask] if mask.any() else volume.array.ravel()
    low, high = np.percentile(values, percentiles)
    return float(low + high) / 2.0, max(float(high - low), 1e-6)


def to_display_unit(slice2d: np.ndarray, window: tuple[float, float]) -> np.ndarray:
    """A slice mapped through (level, width) to [0, 1] float32, for fusion and overlays."""
    return apply_window(slice2d, *window)


def heat_range(heat: np.ndarray, *, vmin: float | None, vmax: float | None, diverging: bool) -> tuple[float, float]:
    """The colour range of a map: given limits, else the finite data's range; symmetric about 0 when diverging."""
    finite = np.asarray(heat, dtype=np.float64)[np.isfinite(heat)]
    low = float(vmin) if vmin is not None else (float(finite.min()) if finite.size else 0.0)
    high = float(vmax) if vmax is not None else (float(finite.max()) if finite.size else 1.0)
    if diverging:
        bound = max(abs(low), abs(high), 1e-12)
        return -bound, bound
    return (low, high) if high > low else (low, low + 1e-12)


def overlay_heatmap(
    base_unit_2d: np.ndarray,
    heat_2d: np.ndarray,
    *,
    cmap: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    alpha: float = 0.5,
    diverging: bool = False,
) -> np.ndarray:
    """A grey slice with a colour-mapped map blended on top (attention, uncertainty, signed error).

    Args:
        base_unit_2d: (h, w) grey slice in [0, 1].
        heat_2d: (h, w) map values; NaN leaves the base showing.
        cmap: plotly colour scale name; default Inferno, or RdBu_r when ``diverging``.
        vmin: (with ``vmax``) colour limits (default: the data range); a diverging map is symmetric about 0.
        vmax: see ``vmin``.
        alpha: opacity of the map, 0..1. A diverging map fades to the base as values approach 0.
        diverging: signed values (e.g. CT error in HU): symmetric limits and a diverging scale.

    Returns:
        (h, w, 3) uint8 RGB.

    Raises:
        ValueError: shapes differ or alpha is outside [0, 1].
    """
    base, heat = np.asarray(base_unit_2d, dtype=np.float32), np.asarray(heat_2d, dtype=np.float64)
    if base.shape != heat.shape or base.ndim != 2:
        raise ValueError(f"overlay_heatmap needs two (h, w) arrays of one shape, got {base.shape} and {heat.shape}")
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    low, high = heat_range(heat, vmin=vmin, vmax=vmax, diverging=diverging)
    position = np.clip((np.nan_to_num(heat, nan=low) - low) / (high - low), 0.0, 1.0)
    colour = colour_lookup(cmap or (DIVERGING_CMAP if diverging else SEQUENTIAL_CMAP))[
        np.round(position * 255).astype(int)
    ]
    weight = np.where(np.isfinite(heat), alpha, 0.0)
    if diverging:
        weight = weight * np.abs(2.0 * position - 1.0)
    grey = np.repeat(np.clip(base, 0, 1)[..., None], 3, axis=2) * 255.0
    blended = (1 - weight[..., None]) * grey + weight[..., None] * colour
    return np.clip(blended + 0.5, 0, 255).astype(np.uint8)


@functools.lru_cache(maxsize=32)
def colour_lookup(cmap: str) -> np.ndarray:
    """(256, 3) float RGB (0..255) table of a plotly colour scale.

    Cached and read-only: sampling a scale costs ~25 ms, and every map drawn on a slider move needs one.

    Raises:
        FusionError: unknown colour scale name.
    """
    try:
        get_colorscale(cmap)
    except PlotlyError as error:
        raise FusionError(f"unknown colour scale {cmap!r}: {str(error).splitlines()[0]}") from None
    samples = sample_colorscale(cmap, list(np.linspace(0.0, 1.0, 256)), colortype="tuple")
    table = np.asarray(samples, dtype=np.float64) * 255.0  # tuples come as 0..1 floats
    table.flags.writeable = False
    return table


def heatmap_figure(
    base_unit_2d: np.ndarray,
    heat_2d: np.ndarray,
    *,
    title: str,
    colorbar_title: str,
    cmap: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    alpha: float = 0.5,
    diverging: bool = False,
    height: int = 420,
) -> go.Figure:
    """A map over a slice (:func:`overlay_heatmap`) with its colour bar, as a plotly figure.

    Args:
        title: what the map shows, in words.
        base_unit_2d: (h, w) grey slice in [0, 1].
        heat_2d: (h, w) map values; NaN leaves the base showing.
        title: what the map shows, in words.
        colorbar_title: the map's quantity and unit, e.g. "error (HU)".
        cmap: as for :func:`overlay_heatmap`.
        vmin: as for :func:`overlay_heatmap`.
        vmax: as for :func:`overlay_heatmap`.
        alpha: as for :func:`overlay_heatmap`.
        diverging: as for :func:`overlay_heatmap`.
        height: figure height in pixels.
    """
    rgb = overlay_heatmap(base_unit_2d, heat_2d, cmap=cmap, vmin=vmin, vmax=vmax, alpha=alpha, diverging=diverging)
    low, high = heat_range(heat_2d, vmin=vmin, vmax=vmax, diverging=diverging)
    scale = cmap or (DIVERGING_CMAP if diverging else SEQUENTIAL_CMAP)
    fig = go.Figure(go.Image(z=rgb, hoverinfo="skip"))
    fig.add_trace(colour_bar_trace(scale, low, high, colorbar_title))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x")
    fig.update_layout(template=TEMPLATE, title=title, height=height, margin={"t": 40, "b": 10, "l": 10, "r": 10})
    return fig


def colour_bar_trace(scale: str, low: float, high: float, title: str) -> go.Scatter:
    """An invisible point that carries the colour bar of a map blended into an image (``overlay_heatmap``)."""
    return go.Scatter(
        x=[None],
        y=[None],
        mode="markers",
        showlegend=False,
        hoverinfo="skip",
        marker={
            "colorscale": scale,
            "cmin": low,
            "cmax": high,
            "color": [low],
            "showscale": True,
            "colorbar": {"title": {"text": title}},
        },
    )
