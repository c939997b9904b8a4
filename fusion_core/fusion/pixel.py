"""Pixel-level fusion of two registered 2-D slices scaled to [0, 1] (A: e.g. CT, B: e.g. MR).

Every function takes two equal-shape (h, w) float arrays in [0, 1]; all but the colour fusion
return an (h, w) float32 array in [0, 1]; :func:`colour_fusion` returns (h, w, 3) RGB.
"""

from __future__ import annotations

import itertools
from enum import StrEnum
from typing import Any

import numpy as np
import pywt
from scipy import ndimage

from fusion_core.choices import parse_choice


class FusionMethod(StrEnum):
    """Pixel-level fusion methods of two slices."""

    BLEND = "blend"
    CHECKERBOARD = "checkerboard"
    COLOUR = "colour"
    LAPLACIAN = "laplacian"
    WAVELET = "wavelet"


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"fusion needs two 2-D slices of the same shape, got {a.shape} and {b.shape}")
    return a, b


def to_unit(array: np.ndarray, *, lower: float = 1.0, upper: float = 99.0) -> np.ndarray:
    """Rescale to [0, 1] between two percentiles (robust to outliers); a constant image gives zeros."""
    lo, hi = np.percentile(array, [lower, upper])
    if hi <= lo:
        return np.zeros(np.shape(array), np.float32)
    return np.clip((np.asarray(array, dtype=np.float32) - lo) / (hi - lo), 0.0, 1.0)


def alpha_blend(a: np.ndarray, b: np.ndarray, *, alpha: float = 0.5) -> np.ndarray:
    """(1 - alpha) * A + alpha * B."""
    a, b = _pair(a, b)
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    return (1 - alpha) * a + alpha * b


def checkerboard(a: np.ndarray, b: np.ndarray, *, tiles: int = 8) -> np.ndarray:
    """Alternate square tiles of A and B (``tiles`` per side): misalignment shows as broken edges."""
    a, b = _pair(a, b)
    if tiles < 1:
        raise ValueError(f"tiles must be >= 1, got {tiles}")
    rows = (np.arange(a.shape[0]) * tiles // a.shape[0])[:, None]
    cols = (np.arange(a.shape[1]) * tiles // a.shape[1])[None, :]
    return np.where((rows + cols) % 2 == 0, a, b)


def colour_fusion(
    grey: np.ndarray, overlay: np.ndarray, *, threshold: float = 0.5, colour=(1.0, 0.45, 0.0), opacity: float = 0.8
) -> np.ndarray:
    """Grey base image (e.g. MR) with the bright parts of ``overlay`` (e.g. CT bone) painted in colour.

    Returns:
        (h, w, 3) float32 RGB in [0, 1]; the overlay's strength above ``threshold`` sets the opacity.
    """
    grey, overlay = _pair(grey, overlay)
    weight = opacity * np.clip((overlay - threshold) / max(1e-6, 1 - threshold), 0, 1)[..., None]
    base = np.repeat(grey[..., None], 3, axis=2)
    return ((1 - weight) * base + weight * np.asarray(colour, np.float32)).astype(np.float32)


def _gaussian_pyramid(image: np.ndarray, levels: int) -> list[np.ndarray]:
    pyramid = [image]
    for _ in range(levels):
        smooth = ndimage.gaussian_filter(pyramid[-1], sigma=1.0, mode="reflect")
        pyramid.append(smooth[::2, ::2])
    return pyramid


def _expand(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    zoom = (shape[0] / image.shape[0], shape[1] / image.shape[1])
    return ndimage.zoom(image, zoom, order=1, mode="nearest", grid_mode=True)[: shape[0], : shape[1]]


def laplacian_pyramid(image: np.ndarray, levels: int) -> list[np.ndarray]:
    """Band-pass layers (fine to coarse) plus the coarsest Gaussian layer last; they sum back to the image."""
    gaussian = _gaussian_pyramid(np.asarray(image, np.float32), levels)
    return [g - _expand(g_next, g.shape) for g, g_next in itertools.pairwise(gaussian)] + [gaussian[-1]]


def reconstruct_laplacian(pyramid: list[np.ndarray]) -> np.ndarray:
    """Inverse of :func:`laplacian_pyramid`."""
    image = pyramid[-1]
    for band in reversed(pyramid[:-1]):
        image = band + _expand(image, band.shape)
    return image


def _levels_for(shape: tuple[int, ...], levels: int) -> int:
    return max(1, min(levels, int(np.log2(max(2, min(shape)))) - 2))


def laplacian_fusion(a: np.ndarray, b: np.ndarray, *, levels: int = 4) -> np.ndarray:
    """Laplacian-pyramid fusion: keep the stronger detail at each scale, average the coarsest layer."""
    a, b = _pair(a, b)
    levels = _levels_for(a.shape, levels)
    pa, pb = laplacian_pyramid(a, levels), laplacian_pyramid(b, levels)
    fused = [np.where(np.abs(x) >= np.abs(y), x, y) for x, y in zip(pa[:-1], pb[:-1], strict=True)]
    fused.append((pa[-1] + pb[-1]) / 2)
    return np.clip(reconstruct_laplacian(fused), 0, 1).astype(np.float32)


def wavelet_fusion(a: np.ndarray, b: np.ndarray, *, wavelet: str = "db2", levels: int = 3) -> np.ndarray:
    """Discrete wavelet fusion (PyWavelets): max-magnitude detail coefficients, averaged approximation."""
    a, b = _pair(a, b)
    levels = _levels_for(a.shape, levels)
    ca, cb = pywt.wavedec2(a, wavelet, level=levels), pywt.wavedec2(b, wavelet, level=levels)
    fused = [(ca[0] + cb[0]) / 2]
    for da, db in zip(ca[1:], cb[1:], strict=True):
        fused.append(tuple(np.where(np.abs(x) >= np.abs(y), x, y) for x, y in zip(da, db, strict=True)))
    out = pywt.waverec2(fused, wavelet)[: a.shape[0], : a.shape[1]]
    return np.clip(out, 0, 1).astype(np.float32)


_FUSERS = {
    FusionMethod.BLEND: alpha_blend,
    FusionMethod.CHECKERBOARD: checkerboard,
    FusionMethod.COLOUR: lambda a, b, **kw: colour_fusion(b, a, **kw),
    FusionMethod.LAPLACIAN: laplacian_fusion,
    FusionMethod.WAVELET: wavelet_fusion,
}


def fuse(
    a: np.ndarray, b: np.ndarray, *, method: str | FusionMethod = FusionMethod.LAPLACIAN, **options: Any
) -> np.ndarray:
    """Fuse two 2-D slices in [0, 1] with the named method.

    For ``"colour"`` A is painted (e.g. CT bone) over grey B (e.g. MR) and the result is RGB (h, w, 3);
    every other method returns (h, w).
    """
    return _FUSERS[parse_choice(FusionMethod, method, "fusion method")](a, b, **options)


def fuse_volume(
    a: np.ndarray, b: np.ndarray, *, method: str | FusionMethod = FusionMethod.LAPLACIAN, **options: Any
) -> np.ndarray:
    """:func:`fuse` applied slice by slice to (z, y, x) arrays on the same grid; returns (z, y, x[, 3])."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.ndim != 3:
        raise ValueError(f"fuse_volume needs two (z, y, x) arrays of the same shape, got {a.shape} and {b.shape}")
    return np.stack([fuse(sa, sb, method=method, **options) for sa, sb in zip(a, b, strict=True)])
