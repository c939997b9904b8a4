"""Everyday ways two scans of one head differ, made from a pair with a known transform (tests, benchmarks).

- :func:`moved_origin`: the moving scan's scanner puts it elsewhere (origins hundreds of mm apart).
- :func:`cropped_along_z`: the moving scan covers only part of the fixed scan's head (a partial field
  of view); its slices are a subset of the original ones, so the true transform is unchanged.
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from fusion_core.registration.checks import physical_bounds
from fusion_core.volume import Volume


def moved_origin(moving: Volume, true_transform: sitk.Transform, offset_mm) -> tuple[Volume, sitk.Transform]:
    """``moving`` with its origin moved by ``offset_mm`` (x, y, z), and the true transform that follows.

    Args:
        moving: the moving scan.
        true_transform: fixed -> moving physical points before the move.
        offset_mm: the shift of the moving scanner's coordinates.

    Returns:
        (moved scan, fixed -> moved-scan transform).
    """
    offset = np.asarray(offset_mm, dtype=np.float64)
    shift = sitk.TranslationTransform(3, offset.tolist())
    moved = Volume(
        moving.array,
        spacing=moving.spacing,
        origin=tuple(np.add(moving.origin, offset)),
        direction=moving.direction,
        modality=moving.modality,
        name=moving.name,
    )
    return moved, sitk.CompositeTransform([shift, true_transform])


def cropped_along_z(moving: Volume, fixed: Volume, fraction: float, *, from_top: bool = True) -> Volume:
    """The slices of ``moving`` that fall inside ``fraction`` of ``fixed``'s physical z extent.

    Args:
        moving: the scan to crop (its slices along its third index axis).
        fixed: the scan whose z extent is the yardstick.
        fraction: share (0 to 1] of ``fixed``'s z extent kept.
        from_top: keep the top of that extent (largest z: superior in LPS), else the bottom.

    Raises:
        ValueError: ``fraction`` outside (0, 1] or no slice of ``moving`` inside the kept range.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    lo, hi = (bound[2] for bound in physical_bounds(fixed))
    kept = fraction * (hi - lo)
    lo, hi = (hi - kept, hi) if from_top else (lo, lo + kept)
    slices = np.arange(moving.shape[0], dtype=np.float64)
    z = moving.index_to_physical(np.stack([np.zeros_like(slices), np.zeros_like(slices), slices], axis=1))[:, 2]
    inside = np.flatnonzero((z >= lo) & (z <= hi))
    if inside.size == 0:
        raise ValueError(f"no slice of {moving.name!r} lies within z {lo:.1f}..{hi:.1f} mm")
    first, last = int(inside.min()), int(inside.max()) + 1
    return Volume(
        moving.array[first:last].copy(),
        spacing=moving.spacing,
        origin=tuple(moving.index_to_physical(np.array([[0.0, 0.0, first]]))[0]),
        direction=moving.direction,
        modality=moving.modality,
        name=f"{moving.name} (slices {first}-{last - 1})",
    )
