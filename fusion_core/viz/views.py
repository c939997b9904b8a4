"""Slice views of volumes for display: canonical orientation, planes, windowing, physical linking.

Display convention (radiological): axial and coronal views show the patient's left on the
image's right; axial shows anterior at the top; coronal and sagittal show superior at the top;
sagittal shows anterior on the left. Pixels are resampled to square millimetres on render so
anisotropic scans keep their true shape.
"""

from __future__ import annotations

import enum
import threading
import weakref
from collections.abc import Sequence

import numpy as np
import SimpleITK as sitk
from PIL import Image

from fusion_core.preprocess.window import WINDOW_PRESETS, apply_window
from fusion_core.viz.display import display_window
from fusion_core.volume import Volume


class Plane(enum.StrEnum):
    AXIAL = "axial"
    CORONAL = "coronal"
    SAGITTAL = "sagittal"

    @classmethod
    def parse(cls, value: str) -> Plane:
        try:
            return cls(str(value).lower())
        except ValueError:
            raise ValueError(f"unknown plane {value!r}; choose one of {[p.value for p in cls]}") from None


# Index axis (x=0, y=1, z=2 in ITK order) that each plane slices through.
_CANONICAL: weakref.WeakKeyDictionary[Volume, Volume] = weakref.WeakKeyDictionary()
_CANONICAL_LOCK = threading.Lock()  # sessions run in threads of one server process
_PLANE_AXIS = {Plane.SAGITTAL: 0, Plane.CORONAL: 1, Plane.AXIAL: 2}


def canonical(volume: Volume) -> Volume:
    """Reorient so index axes run to patient Left, Posterior, Superior (identity direction when axis-aligned).

    Only permutes and flips axes (no interpolation); oblique scans keep their obliquity. The volume
    itself is returned when it is already canonical; otherwise the reoriented copy is made once per
    volume and remembered while the volume lives (a viewer rerun must not copy a 400 MB CT again).
    """
    if volume.orientation_code == "LPS" and np.allclose(np.diag(volume.direction_matrix), 1.0, atol=1e-6):
        return volume
    with _CANONICAL_LOCK:
        reoriented = _CANONICAL.get(volume)
    if reoriented is None:
        reoriented = _flip_permute_to_lps(volume)
        if reoriented is None:  # oblique: SimpleITK keeps the obliquity
            image = sitk.DICOMOrient(volume.to_sitk(), "LPS")
            reoriented = Volume.from_sitk(image, modality=volume.modality, name=volume.name)
        with _CANONICAL_LOCK:
            _CANONICAL[volume] = reoriented
    return reoriented


def _flip_permute_to_lps(volume: Volume) -> Volume | None:
    """An axis-aligned volume reoriented to LPS with numpy (one copy; SimpleITK's DICOMOrient makes
    three of a 400 MB CT), or None when the direction is not a signed permutation."""
    direction = volume.direction_matrix
    axis_of = np.argmax(np.abs(direction), axis=0)  # index axis i (x, y, z) -> physical axis
    signs = np.sign(direction[axis_of, [0, 1, 2]])
    if sorted(axis_of) != [0, 1, 2] or not np.allclose(np.abs(direction).sum(axis=0), 1.0, atol=1e-6):
        return None
    index_of = np.argsort(axis_of)  # physical axis j -> index axis i
    array = np.transpose(volume.array, [2 - index_of[2 - k] for k in range(3)])
    array = array[tuple(slice(None, None, -1) if signs[index_of[2 - k]] < 0 else slice(None) for k in range(3))]
    corner = [(n - 1) if sign < 0 else 0 for n, sign in zip(volume.size_xyz, signs, strict=True)]
    return Volume(
        np.ascontiguousarray(array),
        spacing=tuple(volume.spacing[i] for i in index_of),
        origin=tuple(volume.index_to_physical(corner)),
        modality=volume.modality,
        name=volume.name,
    )


def slice_count(volume: Volume, plane: Plane | str) -> int:
    """Number of slices of a (canonical) volume along ``plane``."""
    return volume.size_xyz[_PLANE_AXIS[Plane.parse(plane)]]


def extract_slice(volume: Volume, plane: Plane | str, index: int) -> np.ndarray:
    """One display-oriented 2-D slice of a canonical (LPS) volume.

    Args:
        volume: a volume returned by :func:`canonical`.
        plane: axial, coronal or sagittal.
        index: slice index along the plane's axis (clipped to the valid range).

    Returns:
        (rows, cols) float32 slice, oriented per the module's display convention.
    """
    plane = Plane.parse(plane)
    index = int(np.clip(index, 0, slice_count(volume, plane) - 1))
    array = volume.array  # (z, y, x): z to superior, y to posterior, x to patient left
    if plane is Plane.AXIAL:
        return array[index]
    if plane is Plane.CORONAL:
        return array[::-1, index, :]
    return array[::-1, :, index]


def pixel_spacing(volume: Volume, plane: Plane | str) -> tuple[float, float]:
    """(row, col) spacing in mm of slices from :func:`extract_slice`."""
    sx, sy, sz = volume.spacing
    return {Plane.AXIAL: (sy, sx), Plane.CORONAL: (sz, sx), Plane.SAGITTAL: (sz, sy)}[Plane.parse(plane)]


def slice_position_mm(volume: Volume, plane: Plane | str, index: int) -> np.ndarray:
    """LPS position (mm) of the centre of slice ``index`` in ``plane``."""
    centre = (np.asarray(volume.size_xyz, dtype=float) - 1) / 2.0
    centre[_PLANE_AXIS[Plane.parse(plane)]] = index
    return volume.index_to_physical(centre)


def slice_index_at(volume: Volume, plane: Plane | str, point_mm: np.ndarray) -> int:
    """Index of the slice of ``volume`` in ``plane`` nearest to the physical point (clipped)."""
    plane = Plane.parse(plane)
    continuous = volume.physical_to_index(point_mm)[_PLANE_AXIS[plane]]
    return int(np.clip(round(float(continuous)), 0, slice_count(volume, plane) - 1))


def default_window(volume: Volume) -> tuple[float, float]:
    """A sensible first window: CT brain window, else the shared display window (head voxels' percentiles)."""
    if volume.modality == "CT":
        return tuple(WINDOW_PRESETS["brain"])
    return display_window(volume)


def window_to_uint8(slice2d: np.ndarray, level: float, width: float) -> np.ndarray:
    """Map [level - width/2, level + width/2] linearly to 0..255 (clipping outside)."""
    return (apply_window(slice2d, level, max(width, 1e-6)) * 255.0 + 0.5).astype(np.uint8)


def render_slice(
    volume: Volume,
    plane: Plane | str,
    index: int,
    *,
    window: tuple[float, float],
    overlay: np.ndarray | None = None,
    overlay_rgb: tuple[int, int, int] = (255, 60, 60),
    display_mm_per_pixel: float | None = None,
) -> np.ndarray:
    """An RGB (rows, cols, 3) uint8 image of one slice, square-pixelled, optionally with a mask overlay.

    Args:
        volume: canonical volume (see :func:`canonical`).
        plane, index: which slice.
        window: (level, width) in the volume's units.
        overlay: optional volume-shaped (z, y, x) mask; its slice is blended in ``overlay_rgb``.
        display_mm_per_pixel: output pixel size; defaults to the finest in-plane spacing.
    """
    grey = window_to_uint8(extract_slice(volume, plane, index), *window)
    rgb = np.repeat(grey[..., None], 3, axis=2)
    if overlay is not None:
        mask = extract_slice(volume.with_array(overlay), plane, index) > 0.5
        rgb[mask] = (0.55 * rgb[mask] + 0.45 * np.asarray(overlay_rgb)).astype(np.uint8)
    return square_pixels(rgb, volume, plane, display_mm_per_pixel)


def square_pixels(
    rgb: np.ndarray, volume: Volume, plane: Plane | str, display_mm_per_pixel: float | None = None
) -> np.ndarray:
    """Resize an (h, w, 3) uint8 slice image of ``volume`` in ``plane`` to square pixels of the given size
    (default: the finest in-plane spacing), so anisotropic scans keep their true shape."""
    row_mm, col_mm = pixel_spacing(volume, plane)
    step = display_mm_per_pixel or min(row_mm, col_mm)
    size = (max(1, round(rgb.shape[1] * col_mm / step)), max(1, round(rgb.shape[0] * row_mm / step)))
    if size != (rgb.shape[1], rgb.shape[0]):
        rgb = np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR))
    return rgb


def render_linked_row(
    volumes: dict[str, Volume],
    plane: Plane | str,
    point_mm: np.ndarray,
    windows: dict[str, tuple[float, float]],
    overlays: dict[str, np.ndarray] | None = None,
) -> dict[str, tuple[np.ndarray, int]]:
    """Render the slice at ``point_mm`` of every (canonical) volume on one shared canvas.

    All images share one millimetre-per-pixel scale and the same canvas size (smaller fields of
    view are centred on black), so scans from different scanners keep their true relative size.

    Returns:
        label -> (RGB image, slice index).
    """
    plane = Plane.parse(plane)
    step = min(min(pixel_spacing(volume, plane)) for volume in volumes.values())
    images = {}
    for label, volume in volumes.items():
        index = slice_index_at(volume, plane, point_mm)
        overlay = (overlays or {}).get(label)
        rgb = render_slice(volume, plane, index, window=windows[label], overlay=overlay, display_mm_per_pixel=step)
        images[label] = (rgb, index)
    rows = max(rgb.shape[0] for rgb, _ in images.values())
    cols = max(rgb.shape[1] for rgb, _ in images.values())
    return {label: (pad_centred(rgb, rows, cols), index) for label, (rgb, index) in images.items()}


def pad_centred(rgb: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Centre an (h, w, 3) image on a black (rows, cols, 3) canvas."""
    canvas = np.zeros((rows, cols, 3), dtype=rgb.dtype)
    top, left = (rows - rgb.shape[0]) // 2, (cols - rgb.shape[1]) // 2
    canvas[top : top + rgb.shape[0], left : left + rgb.shape[1]] = rgb
    return canvas


def metadata_row(volume: Volume, notes: Sequence[str] = ()) -> dict[str, object]:
    """One row of the metadata table shown to users; ``notes``: what the reader repaired or guessed."""
    finite = volume.array[np.isfinite(volume.array)]
    return {
        "name": volume.name,
        "modality": volume.modality,
        "shape (x, y, z)": " × ".join(str(n) for n in volume.size_xyz),
        "spacing (mm)": " × ".join(f"{s:.3g}" for s in volume.spacing),
        "field of view (mm)": " × ".join(f"{e:.0f}" for e in volume.extent_mm),
        "orientation": volume.orientation_code,
        "intensity range": f"{finite.min():.4g} … {finite.max():.4g}" if finite.size else "n/a",
        "repairs and notes": "; ".join(notes) if notes else "none",
    }
