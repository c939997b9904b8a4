"""Panels of slices: a map over a grey slice, and grids of such panels sharing one colour bar.

Maps are drawn with :func:`fusion_core.viz.display.overlay_heatmap` (signed errors diverging and
symmetric about 0, blue = generated too low, red = too high), on square pixels like the viewer.
"""

from __future__ import annotations

import base64
import dataclasses
import io

import numpy as np
import plotly.graph_objects as go
from PIL import Image

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

    The panels are stitched into one transparent-gapped PNG shown by a single ``go.Image`` (a plotly
    subplot per panel costs ~0.2 s per figure to build; one image costs a few ms), titles are annotations.

    Args:
        rows: each row a list of (RGB (h, w, 3) uint8, title); rows may be shorter than the longest.
        bar: the colour bar of the map panels, or None.
        row_height: display pixels per row.
    """
    canvas, centres = stitch_panels([[rgb for rgb, _ in row] for row in rows])
    titles = [title for row in rows for _, title in row]
    data = [go.Image(source=png_data_uri(canvas), hoverinfo="skip")]
    if bar is not None:
        data.append(colour_bar_trace(bar.scale, bar.low, bar.high, bar.title))
    # One constructor call: each update_* on a built figure validates and deep-copies again (~30 ms each).
    return go.Figure(
        data=data,
        layout={
            "template": TEMPLATE,
            "height": row_height * len(rows) + 50,
            "margin": {"t": 40, "b": 10, "l": 10, "r": 10},  # room for plotly's tool bar above the colour bar
            "showlegend": False,
            "xaxis": {"visible": False, "range": [0, canvas.shape[1]]},
            "yaxis": {"visible": False, "range": [canvas.shape[0], 0], "scaleanchor": "x"},
            "annotations": [
                {"x": x, "y": y, "text": t, "showarrow": False, "yanchor": "bottom", "font": {"size": 13}}
                for (x, y), t in zip(centres, titles, strict=True)
            ],
        },
    )


TITLE_PX, GAP_PX = 22, 8


def stitch_panels(rows: list[list[np.ndarray]]) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Panels on one (H, W, 4) RGBA canvas, each centred in an equal cell, transparent between them.

    Returns:
        (canvas, (x, y) of each panel's title anchor: the cell's top centre, row by row).
    """
    cell_h = max(p.shape[0] for row in rows for p in row)
    cell_w = max(p.shape[1] for row in rows for p in row)
    n_cols = max(len(row) for row in rows)
    step_y, step_x = cell_h + TITLE_PX + GAP_PX, cell_w + GAP_PX
    canvas = np.zeros((len(rows) * step_y, n_cols * step_x - GAP_PX, 4), dtype=np.uint8)
    anchors = []
    for r, row in enumerate(rows):
        for c, panel in enumerate(row):
            top = r * step_y + TITLE_PX + (cell_h - panel.shape[0]) // 2
            left = c * step_x + (cell_w - panel.shape[1]) // 2
            canvas[top : top + panel.shape[0], left : left + panel.shape[1], :3] = panel
            canvas[top : top + panel.shape[0], left : left + panel.shape[1], 3] = 255
            anchors.append((c * step_x + cell_w / 2, r * step_y + TITLE_PX - 4))
    return canvas, anchors


def png_data_uri(rgba: np.ndarray) -> str:
    """A PNG data URI of an (h, w, 3|4) uint8 image, for ``go.Image(source=...)``."""
    buffer = io.BytesIO()
    Image.fromarray(rgba).save(buffer, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


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
