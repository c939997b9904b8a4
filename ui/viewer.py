"""Tri-planar viewer widget: slice sliders, window/level presets, slices linked by physical position."""

from __future__ import annotations

import numpy as np
import streamlit as st

from fusion_core.preprocess.window import WINDOW_PRESETS
from fusion_core.viz import views
from fusion_core.viz.display import DISPLAY_PERCENTILES, display_window
from fusion_core.volume import Volume

_AUTO = "Auto (percentiles)"


def ct_window_label(name: str) -> str:
    """A CT window preset as a menu shows it: "bone" -> "Bone (600/2800)" (level/width in HU)."""
    if name not in WINDOW_PRESETS:
        return name
    preset = WINDOW_PRESETS[name]
    return f"{name.capitalize()} ({preset.level:g}/{preset.width:g})"


def window_picker(volume: Volume, *, key: str) -> tuple[float, float]:
    """Window/level control: CT presets in HU, or a percentile auto-window (MR and anything else)."""
    options = [*WINDOW_PRESETS, _AUTO] if volume.modality == "CT" else [_AUTO]
    choice = st.selectbox(f"{volume.modality} window", options, key=f"{key}-window", format_func=ct_window_label)
    if choice == _AUTO:
        return _auto_window(volume, key)
    return tuple(WINDOW_PRESETS[choice])


def _auto_window(volume: Volume, key: str) -> tuple[float, float]:
    low, high = st.slider(
        f"{volume.modality} window: percentiles of the head's voxels",
        0.0,
        100.0,
        DISPLAY_PERCENTILES,
        step=0.5,
        key=f"{key}-pct",
    )
    return display_window(volume, percentiles=(low, max(high, low + 0.5)))


def tri_planar(
    volumes: dict[str, Volume],
    *,
    key: str,
    overlays: dict[str, Volume] | None = None,
    windows: dict[str, tuple[float, float]] | None = None,
) -> np.ndarray:
    """Show axial, coronal and sagittal slices of one or more volumes, one row each.

    The first volume is the reference: the sliders pick its slices, and every other volume shows
    the slice nearest to the same physical position (mm, LPS), not the same index — scans from
    different scanners have different grids.

    Args:
        volumes: label -> volume, e.g. {"CT": ct, "MR": mr}.
        key: widget-key prefix, unique on the page.
        overlays: label -> mask volume on that volume's grid, drawn in red.
        windows: label -> (level, width) fixed by the caller (no window picker for those labels), e.g.
            one CT window shared by a real and a synthetic CT.

    Returns:
        The cursor: the physical point (mm, LPS) the slices show, for views linked to these.
    """
    canon = {label: views.canonical(volume) for label, volume in volumes.items()}
    reference = next(iter(canon.values()))
    sliders = st.columns(3)
    indices = {}
    for column, plane in zip(sliders, views.Plane, strict=True):
        n = views.slice_count(reference, plane)
        with column:
            indices[plane] = st.slider(f"{plane.value.capitalize()} slice", 0, n - 1, n // 2, key=f"{key}-{plane}")
    point = reference.index_to_physical(
        [indices[views.Plane.SAGITTAL], indices[views.Plane.CORONAL], indices[views.Plane.AXIAL]]
    )
    st.caption(
        f"Cursor at L {point[0]:.1f} mm · P {point[1]:.1f} mm · S {point[2]:.1f} mm (LPS). "
        + ("Other scans show the slice at the same physical position." if len(canon) > 1 else "")
    )
    window = dict(windows or {})
    pick = {label: volume for label, volume in canon.items() if label not in window}
    for column, (label, volume) in zip(st.columns(max(len(pick), 1)), pick.items(), strict=False):
        with column:
            window[label] = window_picker(volume, key=f"{key}-{label}")
    masks = {label: views.canonical(mask).array for label, mask in (overlays or {}).items()}
    rows = {plane: views.render_linked_row(canon, plane, point, window, masks) for plane in views.Plane}
    for label, volume in canon.items():
        for column, plane in zip(st.columns(3), views.Plane, strict=True):
            image, index = rows[plane][label]
            with column:
                st.image(
                    image,
                    caption=f"{label} · {plane.value} {index + 1}/{views.slice_count(volume, plane)}",
                    width="stretch",
                    output_format="PNG",
                )
    return point
