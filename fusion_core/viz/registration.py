"""Figures and RGB images for registration: metric curve, before/after comparisons, joint histograms.

Pure functions: arrays in, ``go.Figure`` or (h, w, 3) uint8 RGB out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy import ndimage

from fusion_core.fusion.pixel import alpha_blend, checkerboard
from fusion_core.registration.misalign import MisalignmentProfile

EDGE_RGB = (255, 80, 40)


def to_rgb(image: np.ndarray) -> np.ndarray:
    """A [0, 1] grey (h, w) or RGB (h, w, 3) float image as uint8 RGB."""
    image = np.clip(np.asarray(image, dtype=np.float32), 0, 1)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return (image * 255 + 0.5).astype(np.uint8)


def checkerboard_rgb(fixed: np.ndarray, moving: np.ndarray, *, tiles: int = 8) -> np.ndarray:
    """Checkerboard of two [0, 1] slices as RGB: broken edges at tile borders reveal misalignment."""
    return to_rgb(checkerboard(fixed, moving, tiles=tiles))


def blend_rgb(fixed: np.ndarray, moving: np.ndarray, *, alpha: float = 0.5) -> np.ndarray:
    """Fixed in grey and moving in magenta/green blended by ``alpha`` (0: only fixed, 1: only moving)."""
    grey = alpha_blend(fixed, moving, alpha=alpha)
    colour = np.stack(
        [(1 - alpha) * fixed + alpha * moving, (1 - alpha) * fixed, (1 - alpha) * fixed + alpha * moving], axis=2
    )
    return to_rgb(0.5 * colour + 0.5 * grey[..., None])


def edges(image: np.ndarray, *, percentile: float = 90.0) -> np.ndarray:
    """Boolean edge map: Sobel gradient magnitude above a percentile of its non-zero values."""
    image = ndimage.gaussian_filter(np.asarray(image, dtype=np.float64), 0.7)
    magnitude = np.hypot(ndimage.sobel(image, axis=0), ndimage.sobel(image, axis=1))
    positive = magnitude[magnitude > 0]
    return magnitude >= np.percentile(positive, percentile) if positive.size else np.zeros(image.shape, bool)


def edge_overlay_rgb(fixed: np.ndarray, moving: np.ndarray, *, percentile: float = 90.0) -> np.ndarray:
    """Fixed slice in grey with the moving slice's edges drawn on top in colour."""
    rgb = to_rgb(fixed)
    rgb[edges(moving, percentile=percentile)] = EDGE_RGB
    return rgb


def metric_curve_figure(
    history: Sequence[float], level_starts: Sequence[int] = (), *, title: str = "Optimizer progress"
) -> go.Figure:
    """Mutual information (−Mattes metric, higher is better) per iteration; dashed lines mark new levels."""
    values = -np.asarray(history, dtype=np.float64)
    fig = go.Figure(go.Scatter(y=values, mode="lines", name="mutual information", line={"color": "#1f77b4"}))
    labels = ["coarse start"] + [f"level {i}" for i in range(1, len(level_starts))]
    for start, label in zip(level_starts, labels, strict=False):
        fig.add_vline(
            x=start, line_dash="dot", line_color="grey", annotation_text=label, annotation_position="top left"
        )
    fig.update_layout(
        title=title,
        xaxis_title="iteration",
        yaxis_title="Mattes MI (nats)",
        height=300,
        margin={"t": 40, "b": 40, "l": 50, "r": 10},
    )
    return fig


def joint_histogram_figure(
    before: tuple[np.ndarray, np.ndarray, np.ndarray],
    after: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    *,
    x_label: str = "fixed",
    y_label: str = "moving",
) -> go.Figure:
    """Log joint histograms (from :func:`fusion_core.registration.joint_histogram`), before and after.

    Good alignment concentrates the histogram into a few sharp clusters (one per tissue).
    """
    panels = [("before", before)] + ([("after", after)] if after is not None else [])
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=[name for name, _ in panels], horizontal_spacing=0.08)
    for col, (_, (counts, edges_a, edges_b)) in enumerate(panels, start=1):
        centres_a, centres_b = (edges_a[:-1] + edges_a[1:]) / 2, (edges_b[:-1] + edges_b[1:]) / 2
        fig.add_trace(
            go.Heatmap(z=np.log1p(counts.T), x=centres_a, y=centres_b, colorscale="Viridis", showscale=False),
            row=1,
            col=col,
        )
        fig.update_xaxes(title_text=x_label, row=1, col=col)
        fig.update_yaxes(title_text=y_label, row=1, col=col)
    fig.update_layout(height=340, margin={"t": 40, "b": 40, "l": 50, "r": 10})
    return fig


def histograms_figure(
    before: np.ndarray, after: np.ndarray, *, bins: int = 100, titles=("before", "after")
) -> go.Figure:
    """Intensity histograms of two arrays side by side (each on its own x axis: units may differ)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=list(titles))
    for col, values in enumerate((before, after), start=1):
        values = np.asarray(values, dtype=np.float64).ravel()
        counts, edges_ = np.histogram(values, bins=bins)
        fig.add_trace(
            go.Bar(x=(edges_[:-1] + edges_[1:]) / 2, y=counts, marker_color="#4c78a8", showlegend=False), row=1, col=col
        )
        fig.update_yaxes(type="log", row=1, col=col)
    fig.update_layout(height=280, bargap=0, margin={"t": 40, "b": 30, "l": 50, "r": 10})
    return fig


def misalignment_profile_figure(
    profile: MisalignmentProfile, *, current_mm: float | None = None, axis_name: str = "x"
) -> go.Figure:
    """MI (left axis) and median TRE (right axis) against a deliberate shift: MI peaks where TRE is smallest."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Scatter(
            x=profile.offset_mm,
            y=profile.mutual_information,
            name="mutual information (bits)",
            mode="lines+markers",
        ),
        secondary_y=False,
    )
    if np.isfinite(profile.tre_median_mm).any():
        fig.add_trace(
            go.Scatter(
                x=profile.offset_mm,
                y=profile.tre_median_mm,
                name="median TRE (mm)",
                mode="lines",
                line={"dash": "dash"},
            ),
            secondary_y=True,
        )
    if current_mm is not None:
        fig.add_vline(x=current_mm, line_color="red", annotation_text="slider")
    fig.update_xaxes(title_text=f"extra shift along {axis_name} (mm)")
    fig.update_yaxes(title_text="MI (bits)", secondary_y=False)
    fig.update_yaxes(title_text="TRE (mm)", secondary_y=True)
    fig.update_layout(height=300, margin={"t": 30, "b": 40, "l": 50, "r": 50}, legend={"orientation": "h", "y": -0.3})
    return fig
