"""Figures of the Cross-modal Generation page: maps over slices and grids of panels with one colour bar.

Maps are drawn with :func:`fusion_core.viz.display.overlay_heatmap` (signed errors diverging and
symmetric about 0, blue = generated too low, red = too high), on square pixels like the viewer.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from fusion_core.viz import views
from fusion_core.viz.display import (
    DIVERGING_CMAP,
    SEQUENTIAL_CMAP,
    colour_bar_trace,
    overlay_heatmap,
    to_display_unit,
)
from fusion_core.viz.theme import TEMPLATE
from fusion_core.volume import Volume


@dataclasses.dataclass(frozen=True)
class ColourBar:
    """The colour scale of a map: plotly scale name, limits and the title (quantity and unit)."""

    low: float
    high: float
    title: str
    scale: str = DIVERGING_CMAP

    @classmethod
    def signed(cls, limit: float, title: str) -> ColourBar:
        return cls(-limit, limit, title, DIVERGING_CMAP)

    @classmethod
    def sequential(cls, high: float, title: str, low: float = 0.0) -> ColourBar:
        return cls(low, max(high, low + 1e-12), title, SEQUENTIAL_CMAP)


def grey_slice_rgb(volume: Volume, plane: str, index: int, window: tuple[float, float]) -> np.ndarray:
    """(h, w, 3) uint8 grey slice of a canonical volume through (level, width), square pixels."""
    return views.render_slice(volume, plane, index, window=window)


def map_slice_rgb(
    base: Volume, heat: Volume, plane: str, index: int, *, window: tuple[float, float], bar: ColourBar, alpha=0.85
) -> np.ndarray:
    """(h, w, 3) uint8: a map (same grid as ``base``, both canonical) over the grey base slice, square pixels."""
    grey = to_display_unit(views.extract_slice(base, plane, index), window)
    rgb = overlay_heatmap(
        grey,
        views.extract_slice(heat, plane, index),
        cmap=bar.scale,
        vmin=bar.low,
        vmax=bar.high,
        alpha=alpha,
        diverging=bar.scale == DIVERGING_CMAP,
    )
    return views.square_pixels(rgb, base, plane)


def panel_grid_figure(
    rows: list[list[tuple[np.ndarray, str]]], *, bar: ColourBar | None = None, row_height: int = 260
) -> go.Figure:
    """A grid of RGB panels with titles (one row per list) and at most one colour bar for the maps in it.

    Args:
        rows: each row a list of (RGB (h, w, 3) uint8, title); rows may be shorter than the longest.
        bar: the colour bar of the map panels, or None.
        row_height: pixels per row.
    """
    n_cols = max(len(row) for row in rows)
    titles = [title for row in rows for title in [*(t for _, t in row), *[""] * (n_cols - len(row))]]
    fig = make_subplots(
        rows=len(rows), cols=n_cols, subplot_titles=titles, horizontal_spacing=0.01, vertical_spacing=0.06
    )
    for r, row in enumerate(rows, start=1):
        for c, (rgb, _) in enumerate(row, start=1):
            fig.add_trace(go.Image(z=rgb, hoverinfo="skip"), row=r, col=c)
    if bar is not None:
        fig.add_trace(colour_bar_trace(bar.scale, bar.low, bar.high, bar.title), row=1, col=1)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed")
    for index in range(1, len(rows) * n_cols + 1):  # square pixels in every panel
        suffix = "" if index == 1 else str(index)
        fig.layout[f"yaxis{suffix}"].scaleanchor = f"x{suffix}"
    fig.update_layout(
        template=TEMPLATE,
        height=row_height * len(rows) + 50,
        margin={"t": 40, "b": 10, "l": 10, "r": 10},
        showlegend=False,
    )
    fig.update_annotations(font_size=13)
    return fig


Panel = tuple[np.ndarray, str]


def linked_map_panels(
    base: Volume, heat: Volume, point_mm: np.ndarray, *, window: tuple[float, float], bar: ColourBar
) -> list[Panel]:
    """The map over its base at one physical point in the axial, coronal and sagittal planes (canonical volumes)."""
    panels = []
    for plane in views.Plane:
        index = views.slice_index_at(base, plane, point_mm)
        rgb = map_slice_rgb(base, heat, plane, index, window=window, bar=bar)
        panels.append((rgb, f"{plane.value} {index + 1}/{views.slice_count(base, plane)}"))
    return panels


def comparison_rows(
    volumes: dict[str, Volume],
    errors: dict[str, Volume],
    plane: str,
    point_mm: np.ndarray,
    *,
    window: tuple[float, float],
    bar: ColourBar | None,
) -> list[list[Panel]]:
    """Small multiples: one column per volume (same slice, same window); a second row of error maps when given.

    Args:
        volumes: label -> canonical volume on one grid (generated ones, then the real target).
        errors: label -> canonical signed-error volume of the generated ones (missing labels: no map).
        plane, point_mm: which slice (the one through the viewer's cursor).
        window: one (level, width) for every column, so grey levels compare.
        bar: colour scale of the error maps.
    """
    first = next(iter(volumes.values()))
    index = views.slice_index_at(first, plane, point_mm)
    images = [(grey_slice_rgb(volume, plane, index, window), label) for label, volume in volumes.items()]
    if not errors or bar is None:
        return [images]
    maps = [
        (map_slice_rgb(volumes[label], error, plane, index, window=window, bar=bar), f"error · {label}")
        for label, error in errors.items()
    ]
    return [images, maps]
