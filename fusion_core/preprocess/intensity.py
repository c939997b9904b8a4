"""Intensity normalisation: percentile clipping, z-score, MR->CT scale, histogram matching.

Each array function is pure numpy and returns ``(array, params)``: the result and the statistics it
used, so a step can be shown to the user and replayed (pass the params back in). The ``*_volume``
wrappers return a :class:`NormalisationResult`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from fusion_core.volume import Volume


@dataclasses.dataclass(frozen=True, eq=False)
class NormalisationResult:
    """A normalised volume and the parameters that produced it.

    Attributes:
        volume: the result, on the input's grid.
        params: method name and the statistics used (plain floats/lists: JSON-friendly).
    """

    volume: Volume
    params: dict[str, Any]


def _masked(array: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """The voxels inside ``mask`` (all voxels when None), as a flat float64 array."""
    array = np.asarray(array, dtype=np.float64)
    if mask is None:
        return array.ravel()
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != array.shape:
        raise ValueError(f"mask shape {mask.shape} does not match image shape {array.shape}")
    values = array[mask]
    if values.size == 0:
        raise ValueError("mask is empty: no voxels to compute statistics on")
    return values


def percentile_clip(
    array: np.ndarray, mask: np.ndarray | None = None, *, lower: float = 0.5, upper: float = 99.5
) -> tuple[np.ndarray, dict[str, Any]]:
    """Clip intensities to the [lower, upper] percentiles of the voxels in ``mask``.

    Returns:
        (float32 array of the input's shape, {"method", "lower_pct", "upper_pct", "low", "high"}).
    """
    if not 0 <= lower < upper <= 100:
        raise ValueError(f"percentiles need 0 <= lower < upper <= 100, got {lower}, {upper}")
    low, high = np.percentile(_masked(array, mask), [lower, upper])
    out = np.clip(np.asarray(array, dtype=np.float32), low, high)
    params = {
        "method": "percentile_clip",
        "lower_pct": lower,
        "upper_pct": upper,
        "low": float(low),
        "high": float(high),
    }
    return out, params


def zscore(
    array: np.ndarray, mask: np.ndarray | None = None, *, mean: float | None = None, std: float | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """Subtract the mean and divide by the standard deviation of the voxels in ``mask``.

    Args:
        array: any shape.
        mask: bool array of the same shape, or None for all voxels.
        mean: (with ``std``) replay stored statistics instead of computing them.
        std: see ``mean``.

    Returns:
        (float32 array, {"method", "mean", "std"}). Inside the mask the result has mean 0, std 1.
    """
    values = None if mean is not None and std is not None else _masked(array, mask)
    mean = float(values.mean()) if mean is None else float(mean)
    std = float(values.std()) if std is None else float(std)
    if not std > 0:
        raise ValueError("cannot z-score a constant image: standard deviation inside the mask is 0")
    out = ((np.asarray(array, dtype=np.float64) - mean) / std).astype(np.float32)
    return out, {"method": "zscore", "mean": mean, "std": std}


def mr_to_ct_scale(
    mr: np.ndarray, mr_mask: np.ndarray | None, ct: np.ndarray, ct_mask: np.ndarray | None
) -> tuple[np.ndarray, dict[str, Any]]:
    """Z-score the MR inside its mask, then give it the CT's mean and spread (HU-like numbers).

    Returns:
        (float32 array shaped like ``mr``, {"method", "mr_mean", "mr_std", "ct_mean", "ct_std"}).
    """
    z, mr_params = zscore(mr, mr_mask)
    _, ct_params = zscore(ct, ct_mask)
    out = (z * ct_params["std"] + ct_params["mean"]).astype(np.float32)
    params = {
        "method": "mr_to_ct_scale",
        "mr_mean": mr_params["mean"],
        "mr_std": mr_params["std"],
        "ct_mean": ct_params["mean"],
        "ct_std": ct_params["std"],
    }
    return out, params


def histogram_match(
    array: np.ndarray,
    reference: np.ndarray,
    mask: np.ndarray | None = None,
    reference_mask: np.ndarray | None = None,
    *,
    n_quantiles: int = 101,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Map intensities so their quantiles land on the reference's quantiles (piecewise linear).

    Args:
        array: image to transform, any shape.
        reference: image whose histogram to copy (any shape).
        mask: (with ``reference_mask``) voxels whose histograms are matched (None: all).
        reference_mask: see ``mask``.
        n_quantiles: number of quantile landmarks (>= 2).

    Returns:
        (float32 array shaped like ``array``, {"method", "source_quantiles", "reference_quantiles"}).
    """
    if n_quantiles < 2:
        raise ValueError(f"n_quantiles must be >= 2, got {n_quantiles}")
    levels = np.linspace(0, 100, n_quantiles)
    source_q = np.percentile(_masked(array, mask), levels)
    reference_q = np.percentile(_masked(reference, reference_mask), levels)
    # np.interp needs increasing x: drop repeated source landmarks (flat histogram regions).
    keep = np.concatenate([[True], np.diff(source_q) > 0])
    out = np.interp(np.asarray(array, dtype=np.float64), source_q[keep], reference_q[keep]).astype(np.float32)
    params = {
        "method": "histogram_match",
        "source_quantiles": source_q.tolist(),
        "reference_quantiles": reference_q.tolist(),
    }
    return out, params


def _mask_array(mask: Volume | np.ndarray | None) -> np.ndarray | None:
    if mask is None:
        return None
    return np.asarray(mask.array if isinstance(mask, Volume) else mask) > 0


def percentile_clip_volume(volume: Volume, mask: Volume | None = None, **options: float) -> NormalisationResult:
    """:func:`percentile_clip` on a Volume (mask on the same grid)."""
    out, params = percentile_clip(volume.array, _mask_array(mask), **options)
    return NormalisationResult(volume.with_array(out), params)


def zscore_volume(volume: Volume, mask: Volume | None = None, **options: float) -> NormalisationResult:
    """:func:`zscore` on a Volume (mask on the same grid)."""
    out, params = zscore(volume.array, _mask_array(mask), **options)
    return NormalisationResult(volume.with_array(out), params)


def mr_to_ct_scale_volume(
    mr: Volume, ct: Volume, *, mr_mask: Volume | None = None, ct_mask: Volume | None = None
) -> NormalisationResult:
    """:func:`mr_to_ct_scale` on Volumes (each mask on its own volume's grid)."""
    out, params = mr_to_ct_scale(mr.array, _mask_array(mr_mask), ct.array, _mask_array(ct_mask))
    return NormalisationResult(mr.with_array(out), params)


def histogram_match_volume(
    volume: Volume,
    reference: Volume,
    *,
    mask: Volume | None = None,
    reference_mask: Volume | None = None,
    n_quantiles: int = 101,
) -> NormalisationResult:
    """:func:`histogram_match` on Volumes (grids may differ)."""
    out, params = histogram_match(
        volume.array, reference.array, _mask_array(mask), _mask_array(reference_mask), n_quantiles=n_quantiles
    )
    return NormalisationResult(volume.with_array(out), params)
