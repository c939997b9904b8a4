"""The report's images: axial slices drawn by :mod:`fusion_core.viz`, embedded as PNG data URIs.

The same overlays and colour scales as the pages, with a CSS colour bar.
"""

from __future__ import annotations

import numpy as np

from fusion_core.report.model import Figure
from fusion_core.viz import views
from fusion_core.viz.display import colour_lookup
from fusion_core.viz.panels import ColourBar, map_slice_rgb, png_data_uri
from fusion_core.volume import Volume

AXIAL = views.Plane.AXIAL
_BAR_STOPS = 9
ATTRIBUTION_ALPHA = 0.5  # the anatomy stays readable under a map that is mostly near zero


def centre_mm(volume: Volume) -> np.ndarray:
    """LPS position of the volume's central voxel."""
    centre = (np.asarray(volume.size_xyz, dtype=float) - 1) / 2
    return (volume.affine @ np.append(centre, 1.0))[:3]


def _window(volume: Volume) -> tuple[float, float]:
    return views.default_window(volume)


def scan_figure(volume: Volume, caption: str, *, like: Volume | None = None) -> Figure:
    """The axial slice through the centre, in the window of ``like`` (e.g. the real CT) when given."""
    canon = views.canonical(volume)
    index = views.slice_index_at(canon, AXIAL, centre_mm(volume))
    rgb = views.render_slice(canon, AXIAL, index, window=_window(like if like is not None else volume))
    return Figure(png_data_uri(rgb), caption)


def _map_figure(base: Volume, heat: Volume, caption: str, bar: ColourBar, low: str, high: str) -> Figure:
    canon, heat_canon = views.canonical(base), views.canonical(heat)
    index = views.slice_index_at(canon, AXIAL, centre_mm(base))
    rgb = map_slice_rgb(canon, heat_canon, AXIAL, index, window=_window(base), bar=bar)
    return Figure(png_data_uri(rgb), caption, css_gradient(bar.scale), (low, high))


def error_figure(real: Volume, error: Volume, caption: str, unit: str) -> Figure:
    """Signed error over the real scan, diverging and symmetric (blue: too low, red: too high)."""
    # lazy: imports torch; this module's import stays torch-free
    from fusion_core.evaluation.cross_modal import symmetric_limit

    limit = symmetric_limit(error.array)
    bar = ColourBar.signed(limit, caption)
    return _map_figure(real, error, caption, bar, f"−{limit:.0f} {unit}", f"+{limit:.0f} {unit}")


def spread_figure(base: Volume, spread: Volume, caption: str, unit: str) -> Figure:
    """Per-voxel spread of the samples over the generated scan (sequential scale from 0)."""
    finite = spread.array[np.isfinite(spread.array)]
    high = float(np.percentile(finite, 99)) if finite.size else 1.0
    bar = ColourBar.sequential(high, caption)
    return _map_figure(base, spread, caption, bar, f"0 {unit}", f"{high:.3g} {unit}")


def fused_figure(ct: Volume, mr: Volume, caption: str) -> Figure:
    """The registered MR in colour over the CT in grey (same grid)."""
    low, high = (float(v) for v in np.percentile(mr.array[np.isfinite(mr.array)], [1, 99]))
    bar = ColourBar.sequential(high, caption, low=low)
    return _map_figure(ct, mr, caption, bar, "MR low", "MR high")


def attribution_figure(
    given: dict[str, Volume], maps: dict[str, np.ndarray], index: int, caption: str
) -> Figure | None:
    """Each modality's attribution map on axial slice ``index`` over that modality's scan, side by side.

    None when no map has a scan to lie on.
    """
    panels, drawn = [], []
    signed = any(float(np.min(m)) < 0 for m in maps.values())
    for key, heat2d in maps.items():
        base = given.get("CT") if key == "CT" else next((v for k, v in given.items() if k != "CT"), None)
        if base is None:
            continue
        heat = np.zeros(base.shape, dtype=np.float32)
        heat[index] = heat2d
        position = (base.affine @ np.array([(base.size_xyz[0] - 1) / 2, (base.size_xyz[1] - 1) / 2, index, 1.0]))[:3]
        canon, heat_canon = views.canonical(base), views.canonical(base.with_array(heat))
        k = views.slice_index_at(canon, AXIAL, position)
        limit = float(np.abs(heat2d).max()) or 1.0
        bar = ColourBar.signed(limit, "attribution") if signed else ColourBar.sequential(limit, "attribution")
        panels.append(
            map_slice_rgb(canon, heat_canon, AXIAL, k, window=_window(base), bar=bar, alpha=ATTRIBUTION_ALPHA)
        )
        drawn.append(key)
    if not panels:
        return None
    rows = max(p.shape[0] for p in panels)
    cols = max(p.shape[1] for p in panels)
    strip = np.concatenate([views.pad_centred(p, rows, cols) for p in panels], axis=1)
    text = f"{caption} ({' | '.join(drawn)}, each scaled to its own maximum)"
    if not any(np.any(maps[k]) for k in drawn):
        text += "; the map is zero everywhere: this method found no evidence on this slice"
    labels = ("lowers the lesion score", "raises it") if signed else ("no influence", "most influence")
    return Figure(png_data_uri(strip), text, css_gradient(bar.scale), labels, len(panels))


def css_gradient(scale: str) -> str:
    """A CSS linear-gradient of a plotly colour scale (for the colour bar beside a map)."""
    table = colour_lookup(scale)
    stops = [table[round(i * 255 / (_BAR_STOPS - 1))] for i in range(_BAR_STOPS)]
    colours = ", ".join(f"rgb({int(r)},{int(g)},{int(b)})" for r, g, b in stops)
    return f"linear-gradient(to right, {colours})"
