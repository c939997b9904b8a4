"""Slice geometry shared by training and inference: centre crop, resize, neighbour stacks (numpy only).

A network sees each axial slice centre-cropped to ``crop_fraction`` of the field of view and
resized to ``size`` x ``size``: area averaging when shrinking, bilinear when enlarging. The
resizing reproduces ``torch.nn.functional.interpolate`` (modes "area" and "bilinear" with
``align_corners=False``) exactly, so the pixels do not depend on whether torch is installed.
"""

from __future__ import annotations

import numpy as np


def crop_window(shape: tuple[int, int], fraction: float) -> tuple[slice, slice]:
    """(y, x) slices of the centred window covering ``fraction`` of a (ny, nx) slice (1.0 = all)."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"crop fraction must be in (0, 1], got {fraction}")
    (ny, nx), (cy, cx) = shape, (round(shape[0] * fraction), round(shape[1] * fraction))
    y0, x0 = (ny - cy) // 2, (nx - cx) // 2
    return slice(y0, y0 + cy), slice(x0, x0 + cx)


def crop_slices(array: np.ndarray, fraction: float) -> np.ndarray:
    """Centre crop of each (y, x) slice of (n, y, x) to ``fraction`` of its size (see ``crop_window``)."""
    return array[(slice(None), *crop_window(array.shape[1:], fraction))]


def uncrop_slices(array: np.ndarray, shape: tuple[int, int], fraction: float, *, fill: float = 0.0) -> np.ndarray:
    """Inverse of ``crop_slices``: (n, cy, cx) pasted into the centre of (n, *shape) filled with ``fill``."""
    out = np.full((array.shape[0], *shape), fill, dtype=array.dtype)
    out[(slice(None), *crop_window(shape, fraction))] = array
    return out


def _area_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) averaging weights of adaptive average pooling (torch's "area" mode)."""
    weights = np.zeros((n_out, n_in), dtype=np.float64)
    for i in range(n_out):
        start, stop = (i * n_in) // n_out, -((-(i + 1) * n_in) // n_out)
        weights[i, start:stop] = 1.0 / (stop - start)
    return weights


def _bilinear_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) linear interpolation weights with half-pixel centres (align_corners=False)."""
    weights = np.zeros((n_out, n_in), dtype=np.float64)
    source = np.maximum((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0.0)
    low = np.minimum(np.floor(source).astype(int), n_in - 1)
    high = np.minimum(low + 1, n_in - 1)
    frac = source - low
    np.add.at(weights, (np.arange(n_out), low), 1.0 - frac)
    np.add.at(weights, (np.arange(n_out), high), frac)
    return weights


RESIZE_SLAB = 16


def resize_slices(array: np.ndarray, size: int | tuple[int, int], *, mode: str = "area") -> np.ndarray:
    """Resize each (y, x) slice of (n, y, x) to ``size`` (an int for a square); ``mode`` "area" or "bilinear".

    Returns:
        (n, *size) float32.
    """
    if mode not in ("area", "bilinear"):
        raise ValueError(f"resize mode must be 'area' or 'bilinear', got {mode!r}")
    out_y, out_x = (size, size) if isinstance(size, int) else size
    matrix = _area_matrix if mode == "area" else _bilinear_matrix
    wy, wx = matrix(array.shape[1], out_y), matrix(array.shape[2], out_x)
    out = np.empty((len(array), out_y, out_x), np.float32)
    for start in range(0, len(array), RESIZE_SLAB):  # float64 per slab: no full-size float64 copy
        slab = np.asarray(array[start : start + RESIZE_SLAB], dtype=np.float64)
        out[start : start + RESIZE_SLAB] = np.einsum("yi,nij,xj->nyx", wy, slab, wx, optimize=True)
    return out


def network_slices(array: np.ndarray, size: int, crop_fraction: float) -> np.ndarray:
    """(n, y, x) native slices -> (n, S, S): centre crop, then resize.

    Area interpolation when shrinking, bilinear when the crop is smaller than S. Training and inference
    both go through here, so they see the same pixels.
    """
    cropped = crop_slices(array, crop_fraction)
    mode = "area" if min(cropped.shape[1:]) >= size else "bilinear"
    return resize_slices(cropped, size, mode=mode)


def neighbour_indices(idx: np.ndarray, k: int, n_slices: int) -> np.ndarray:
    """(len(idx), 2k+1) slice indices idx-k .. idx+k, clipped to the volume (ends repeat)."""
    offsets = np.arange(-k, k + 1)
    return np.clip(np.asarray(idx)[:, None] + offsets[None, :], 0, n_slices - 1)
