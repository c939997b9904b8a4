"""The scan viewer every page uses: a WebGL component around NiiVue, or server-drawn PNG slices.

:func:`use_webgl` is the one place that decides which one draws: the PNG path serves AppTests
(Streamlit's AppTest cannot run components), ``FUSION_VIEWER=png``, the sidebar toggle, and browsers
that report no WebGL. :func:`scan_viewer` is the full API; :func:`tri_planar` keeps its old contract
(the cursor, LPS mm).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np
import streamlit as st
import streamlit.components.v1 as components
from streamlit.errors import StreamlitDuplicateElementKey

from fusion_core.preprocess.window import WINDOW_PRESETS
from fusion_core.viz import views
from fusion_core.viz.display import DISPLAY_PERCENTILES, display_window
from fusion_core.volume import Volume
from ui.viewer import payload

_AUTO = "Auto (percentiles)"
_BUILD = Path(__file__).resolve().parent / "frontend" / "build"
_COMPONENT = components.declare_component("fusion_viewer", path=str(_BUILD))
_NO_WEBGL = "viewer-no-webgl"  # session flag: this browser reported no WebGL
_TOGGLE = "viewer-webgl"
LAYOUTS = ("axial", "coronal", "sagittal", "multiplanar")
# MR windows offered as buttons: percentiles of the head's voxels.
PERCENTILE_WINDOWS = {"1–99.5 %": DISPLAY_PERCENTILES, "5–95 %": (5.0, 95.0), "0–100 %": (0.0, 100.0)}
_HELP = (
    "Click: move the crosshair (all scans follow, same millimetres) · wheel or ↑/↓: scroll slices · "
    "right-drag: window/level · middle-drag: pan · buttons: layout, CT windows, zoom."
)


@dataclasses.dataclass(frozen=True)
class Heatmap:
    """A map drawn in colour over one panel's scan, with a colour bar.

    Attributes:
        volume: the map (any grid; the viewer places it by its geometry).
        colormap: NiiVue colour map for positive values, e.g. "warm", "hot", "red".
        limit: colour scale ends at ±limit (signed) or [0, limit]; None: the map's largest magnitude.
        signed: diverging and symmetric (negative values in "winter"), e.g. a signed error map.
        opacity: 0..1.
        floor: values below floor × limit (in magnitude) stay uncoloured, e.g. 0.3 for a smooth map.
    """

    volume: Volume
    colormap: str = "warm"
    limit: float | None = None
    signed: bool = False
    opacity: float = 0.6
    floor: float = 0.02


@dataclasses.dataclass(frozen=True)
class ViewerState:
    """What the viewer reports back.

    Attributes:
        cursor_mm: (3,) the crosshair, LPS mm (where the user left it; the first scan's centre at first).
        clicked_mm: (3,) LPS mm of a click since the previous run, else None.
        webgl: True when the WebGL viewer drew (False: PNG slices).
    """

    cursor_mm: np.ndarray
    clicked_mm: np.ndarray | None
    webgl: bool


def use_webgl() -> bool:
    """The one decision between the WebGL viewer and server-drawn PNG slices (see module docstring)."""
    if os.environ.get("FUSION_VIEWER", "").strip().lower() == "png":
        return False
    if "streamlit.testing.v1" in sys.modules:  # AppTest cannot run custom components
        return False
    if st.session_state.get(_NO_WEBGL):
        return False
    try:
        return st.sidebar.toggle(
            "Fast scan viewer (WebGL)",
            value=True,
            key=_TOGGLE,
            help="Off: slices are drawn on the server as pictures (slower; for browsers without WebGL).",
        )
    except StreamlitDuplicateElementKey:  # a second viewer on the page: the toggle is already there
        return bool(st.session_state.get(_TOGGLE, True))


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
    heatmaps: dict[str, Heatmap] | None = None,
    layout: str = "multiplanar",
    cursor_mm: np.ndarray | None = None,
) -> np.ndarray:
    """Show one or more scans side by side with one crosshair in physical space; return the cursor.

    Args:
        volumes: label -> volume, e.g. {"CT": ct, "MR": mr}; the first is the reference.
        key: widget-key prefix, unique on the page.
        overlays: label -> mask volume on that volume's grid (drawn as a red outline in WebGL, red in PNG).
        windows: label -> (level, width) fixed by the caller (no window picker for those labels in PNG).
        heatmaps: label -> :class:`Heatmap` drawn over that label's scan (WebGL only).
        layout: "axial", "coronal", "sagittal" or "multiplanar" (WebGL; the PNG path shows all three).
        cursor_mm: (3,) where the crosshair starts, LPS mm (default: the first scan's centre); the viewer
            moves there again only when this value changes.

    Returns:
        The cursor: the physical point (mm, LPS) the slices show, for views linked to these.
    """
    return scan_viewer(
        volumes, key=key, overlays=overlays, windows=windows, heatmaps=heatmaps, layout=layout, cursor_mm=cursor_mm
    ).cursor_mm


def scan_viewer(
    volumes: dict[str, Volume],
    *,
    key: str,
    overlays: dict[str, Volume] | None = None,
    windows: dict[str, tuple[float, float]] | None = None,
    heatmaps: dict[str, Heatmap] | None = None,
    layout: str = "multiplanar",
    height: int | None = None,
    cursor_mm: np.ndarray | None = None,
) -> ViewerState:
    """:func:`tri_planar` with everything the viewer reports (cursor, click, which path drew).

    Args: as :func:`tri_planar`; ``height`` is each panel's height in pixels (WebGL).
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown viewer layout {layout!r}; choose one of {list(LAYOUTS)}")
    if not use_webgl():
        point = _png_viewer(volumes, key=key, overlays=overlays, windows=windows, cursor_mm=cursor_mm)
        return ViewerState(point, None, False)
    spec, blobs = _webgl_spec(volumes, overlays or {}, windows or {}, heatmaps or {}, layout, height, cursor_mm)
    value = _COMPONENT(spec=spec, **blobs, key=key, default=None)
    return _state_from(value, key, spec["cursor_mm"])


def _state_from(value: dict | None, key: str, start: list[float]) -> ViewerState:
    """Read the component's report; a browser without WebGL switches this session to PNG slices."""
    if isinstance(value, dict) and value.get("webgl") is False:
        st.session_state[_NO_WEBGL] = True
        st.rerun()
    value = value if isinstance(value, dict) else {}
    cursor = np.asarray(value.get("cursor_mm") or start, dtype=float)
    seen_key = f"{key}-clicks-seen"
    clicks = int(value.get("clicks") or 0)
    clicked = value.get("clicked") if clicks > st.session_state.get(seen_key, 0) else None
    st.session_state[seen_key] = clicks
    return ViewerState(cursor, None if clicked is None else np.asarray(clicked, dtype=float), True)


def _webgl_spec(
    volumes: dict[str, Volume],
    overlays: dict[str, Volume],
    windows: dict[str, tuple[float, float]],
    heatmaps: dict[str, Heatmap],
    layout: str,
    height: int | None,
    cursor_mm: np.ndarray | None = None,
) -> tuple[dict, dict[str, bytes]]:
    """The JSON spec and the byte arguments (one NIfTI per volume) the component gets.

    The spec's key covers the start cursor: a new ``cursor_mm`` from Python reopens the viewer there, while
    the user's own moves (which never change the spec) are kept across reruns.
    """
    blobs: dict[str, bytes] = {}
    panels = []
    for i, (label, volume) in enumerate(volumes.items()):
        layers = []
        if label in overlays:
            layers.append(_mask_layer(overlays[label], f"p{i}-mask", blobs))
        if label in heatmaps:
            layers.append(_heat_layer(heatmaps[label], label, f"p{i}-heat", blobs))
        panels.append(_panel(label, volume, windows.get(label), f"p{i}", blobs, layers))
    reference = next(iter(volumes.values()))
    spec = {
        "panels": panels,
        "layout": layout,
        "ct_windows": {ct_window_label(name): list(preset) for name, preset in WINDOW_PRESETS.items()},
        "percentile_names": list(PERCENTILE_WINDOWS),
        "radiological": True,
        "opacity": 0.6,
        "height": height or (300 if len(panels) >= 3 else 380),
        "cursor_mm": [float(v) for v in _start_cursor(reference, cursor_mm)],
        "help": _HELP,
    }
    spec["key"] = hashlib.blake2b(json.dumps(spec, sort_keys=True).encode(), digest_size=8).hexdigest()
    return spec, blobs


def _start_cursor(reference: Volume, cursor_mm: np.ndarray | None) -> np.ndarray:
    """The crosshair's start: ``cursor_mm`` when given, else the reference scan's centre voxel."""
    if cursor_mm is not None:
        return np.asarray(cursor_mm, dtype=float)
    return reference.index_to_physical(np.asarray(reference.size_xyz) // 2)


def _panel(
    label: str, volume: Volume, window: tuple[float, float] | None, name: str, blobs: dict, layers: list
) -> dict:
    encoded = payload.encode(volume)
    blobs[name] = encoded.nifti_gz
    ct = volume.modality == "CT"
    return {
        "label": label,
        "bytes": name,
        "digest": encoded.digest,
        "ct": ct,
        "window": list(window or payload.first_window(volume)),
        "percentile_windows": None if ct else payload.percentile_windows(volume, PERCENTILE_WINDOWS),
        "lps_to_index": payload.lps_to_index(volume),
        "size": list(volume.size_xyz),
        "note": f"{volume.modality}: {encoded.resolution_note}",
        "layers": layers,
    }


def _mask_layer(mask: Volume, name: str, blobs: dict) -> dict:
    """A mask as its 3-D outline (the voxels of the mask that touch the outside), drawn in red."""
    encoded = payload.encode(payload.outline(mask))
    blobs[name] = encoded.nifti_gz
    return {
        "bytes": name,
        "digest": encoded.digest,
        "name": "lesion outline",
        "colormap": "red",
        "cal_min": 0.5,
        "cal_max": 1.0,
        "opacity": 1.0,
    }


def _heat_layer(heat: Heatmap, label: str, name: str, blobs: dict) -> dict:
    encoded = payload.encode(heat.volume)
    blobs[name] = encoded.nifti_gz
    limit = heat.limit or float(np.nanmax(np.abs(heat.volume.array))) or 1.0
    return {
        "bytes": name,
        "digest": encoded.digest,
        "name": f"{label} map",
        "colormap": heat.colormap,
        "colormap_negative": "winter" if heat.signed else "",
        "cal_min": heat.floor * limit,
        "cal_max": limit,
        "opacity": heat.opacity,
    }


def _png_viewer(
    volumes: dict[str, Volume],
    *,
    key: str,
    overlays: dict[str, Volume] | None = None,
    windows: dict[str, tuple[float, float]] | None = None,
    cursor_mm: np.ndarray | None = None,
) -> np.ndarray:
    """Server-drawn slices: one slider per plane and a row of PNGs per scan (AppTests, no WebGL)."""
    canon = {label: views.canonical(volume) for label, volume in volumes.items()}
    reference = next(iter(canon.values()))
    start = _png_start(reference, cursor_mm)
    sliders = st.columns(3)
    indices = {}
    for column, plane in zip(sliders, views.Plane, strict=True):
        n = views.slice_count(reference, plane)
        with column:
            indices[plane] = st.slider(
                f"{plane.value.capitalize()} slice", 0, n - 1, start.get(plane, n // 2), key=f"{key}-{plane}"
            )
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


def _png_start(reference: Volume, cursor_mm: np.ndarray | None) -> dict:
    """Plane -> start slice index on the (canonical) reference for ``cursor_mm``; empty without one."""
    if cursor_mm is None:
        return {}
    index = np.rint(reference.physical_to_index(np.asarray(cursor_mm, dtype=float))).astype(int)
    index = np.clip(index, 0, np.asarray(reference.size_xyz) - 1)
    return {views.Plane.SAGITTAL: int(index[0]), views.Plane.CORONAL: int(index[1]), views.Plane.AXIAL: int(index[2])}
