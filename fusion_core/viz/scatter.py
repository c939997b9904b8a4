"""Latent codes as points: the 2-D scatter of a projection (one global row id per point in ``customdata``,
CT–MR link lines), the canonical-correlation bars, and slice thumbnails with the lesion outlined.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from scipy import ndimage

from fusion_core.latents import paired_rows
from fusion_core.viz.theme import MODALITY_COLOURS, STRATEGY_COLOURS, TEMPLATE
from fusion_core.viz.views import window_to_uint8

POSTERIOR_LABELS = {"CT": "CT only", "MR": "MR only", "joint": "CT + MR (joint PoE)"}
POSTERIOR_COLOURS = {"CT": MODALITY_COLOURS["CT"], "MR": MODALITY_COLOURS["MR-T1"], "joint": STRATEGY_COLOURS["poe"]}
POSTERIOR_SYMBOLS = {"CT": "circle", "MR": "diamond", "joint": "square"}
# Colour-by choices: label shown to users -> how to read it off the metadata.
COLOUR_BY = ("modality", "label", "lesion type", "site", "slice position", "missing pattern", "lesion in the slice")
CATEGORY_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
OUTLINE_RGB = (255, 60, 60)


def colour_values(meta: pd.DataFrame, colour_by: str) -> pd.Series:
    """What each point is coloured by: text categories, or floats for "slice position" (0 = first slice)."""
    if colour_by == "slice position":
        return meta["slice"] / np.maximum(meta["n_slices"] - 1, 1)
    column = {
        "modality": meta["posterior"].map(POSTERIOR_LABELS),
        "label": meta["label"].map({1.0: "lesion", 0.0: "no lesion"}),
        "lesion type": meta["lesion_type"],
        "site": "site " + meta["site"].astype(str),
        "missing pattern": meta["scans"],
        "lesion in the slice": meta["slice_has_lesion"].map({1.0: "lesion in slice", 0.0: "no lesion in slice"}),
    }[colour_by]
    return column.fillna("unknown").astype(str)


def _hover(meta: pd.DataFrame) -> list[str]:
    label = meta["label"].map({1.0: "lesion", 0.0: "no lesion"}).fillna("unknown")
    lesion = meta["lesion_type"].where(meta["label"] == 1.0, "")
    return (
        meta["subject_id"]
        + " · slice "
        + (meta["slice"] + 1).astype(str)
        + "/"
        + meta["n_slices"].astype(str)
        + "<br>"
        + label
        + " "
        + lesion.astype(str)
        + "<br>"
        + meta["posterior"].map(POSTERIOR_LABELS)
    ).tolist()


def link_segments(coords: np.ndarray, meta: pd.DataFrame) -> tuple[list, list]:
    """x and y of one line per slice from its CT-only point to its MR-only point (None between lines)."""
    ct, mr = paired_rows(meta)
    xs = np.full((len(ct), 3), np.nan)
    ys = np.full((len(ct), 3), np.nan)
    xs[:, 0], xs[:, 1], ys[:, 0], ys[:, 1] = coords[ct, 0], coords[mr, 0], coords[ct, 1], coords[mr, 1]
    flat = lambda a: [None if np.isnan(v) else float(v) for v in a.ravel()]  # noqa: E731
    return flat(xs), flat(ys)


def latent_scatter(
    coords: np.ndarray, meta: pd.DataFrame, *, colour_by: str = "modality", links: bool = False, method: str = "UMAP"
) -> go.Figure:
    """The projection: one point per latent, ``customdata`` = its global row id (selection-safe).

    Args:
        coords: (n, 2) projection; meta: the n rows of the latent table.
        colour_by: one of ``COLOUR_BY``.
        links: draw a thin line from each slice's CT-only point to its MR-only point.
        method: axis title prefix ("UMAP", "PCA", "t-SNE").
    """
    fig = go.Figure()
    if links:
        xs, ys = link_segments(coords, meta)
        fig.add_trace(
            go.Scattergl(
                x=xs, y=ys, mode="lines", line={"color": "rgba(90,90,90,0.35)", "width": 1},
                name="CT–MR pair (same slice)", hoverinfo="skip",
            )
        )  # fmt: skip
    values, hover = colour_values(meta, colour_by), np.array(_hover(meta), dtype=object)
    symbols = meta["posterior"].map(POSTERIOR_SYMBOLS).to_numpy()
    ids = np.arange(len(meta))
    if colour_by == "slice position":
        fig.add_trace(_points(coords, ids, hover, symbols, "slices", colour=values.to_numpy(), colourbar=True))
    else:
        for i, name in enumerate(sorted(values.unique())):
            rows = ids[(values == name).to_numpy()]
            colour = POSTERIOR_COLOURS[_posterior_of(name)] if colour_by == "modality" else _category_colour(i)
            fig.add_trace(_points(coords[rows], rows, hover[rows], symbols[rows], name, colour=colour))
    fig.update_layout(
        template=TEMPLATE,
        dragmode="lasso",
        height=620,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis={"title": f"{method} 1", "showticklabels": False, "zeroline": False},
        yaxis={"title": f"{method} 2", "showticklabels": False, "zeroline": False},
        legend={"title": {"text": colour_by.capitalize()}, "itemsizing": "constant"},
        uirevision="latents",
    )
    return fig


def _points(coords, ids, hover, symbols, name, *, colour, colourbar=False) -> go.Scattergl:
    marker = {"size": 6, "color": colour, "symbol": symbols.tolist(), "opacity": 0.8, "line": {"width": 0}}
    if colourbar:
        marker |= {"colorscale": "Viridis", "cmin": 0, "cmax": 1, "colorbar": {"title": "Slice<br>(inferior→superior)"}}
    return go.Scattergl(
        x=coords[:, 0].tolist(), y=coords[:, 1].tolist(), mode="markers", name=str(name), marker=marker,
        customdata=np.asarray(ids).tolist(), text=list(hover), hovertemplate="%{text}<extra></extra>",
    )  # fmt: skip


def _posterior_of(label: str) -> str:
    return next(k for k, v in POSTERIOR_LABELS.items() if v == label)


def _category_colour(i: int) -> str:
    return CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)]


def canonical_figure(correlations: np.ndarray, shuffled: np.ndarray | None = None) -> go.Figure:
    """Bar chart of the top canonical correlations between CT-only and MR-only latents (grey: rows shuffled)."""
    pairs = [f"{i + 1}" for i in range(len(correlations))]
    fig = go.Figure(
        go.Bar(
            x=pairs, y=np.asarray(correlations).tolist(), name="same slice",
            marker_color=STRATEGY_COLOURS["poe"], hovertemplate="pair %{x}: r = %{y:.2f}<extra></extra>",
        )
    )  # fmt: skip
    if shuffled is not None:
        fig.add_trace(
            go.Bar(
                x=pairs[: len(shuffled)], y=np.asarray(shuffled).tolist(), name="shuffled pairs",
                marker_color="#999999", hovertemplate="shuffled, pair %{x}: r = %{y:.2f}<extra></extra>",
            )
        )  # fmt: skip
    fig.update_layout(
        template=TEMPLATE,
        barmode="group",
        legend={"orientation": "h", "y": 1.15},
        height=260,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"title": "Canonical pair"},
        yaxis={"title": "Correlation", "range": [0, 1]},
    )
    return fig


def slice_thumbnail(array: np.ndarray, window: tuple[float, float], mask: np.ndarray | None = None) -> np.ndarray:
    """(y, x, 3) uint8 image of one 2-D slice through ``window`` (level, width), the mask's outline in red."""
    grey = window_to_uint8(array, *window)
    rgb = np.repeat(grey[..., None], 3, axis=2)
    if mask is not None and mask.any():
        inside = mask > 0.5
        rgb[inside & ~ndimage.binary_erosion(inside)] = OUTLINE_RGB
    return rgb
