"""Resampling a volume onto another volume's grid, optionally through a transform."""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import SimpleITK as sitk

from fusion_core.choices import parse_choice
from fusion_core.volume import Volume


class Interpolator(StrEnum):
    """Interpolation used when resampling."""

    NEAREST = "nearest"
    LINEAR = "linear"
    BSPLINE = "bspline"


_SITK_INTERPOLATORS = {
    Interpolator.NEAREST: sitk.sitkNearestNeighbor,
    Interpolator.LINEAR: sitk.sitkLinear,
    Interpolator.BSPLINE: sitk.sitkBSpline,
}


def resample_to(
    volume: Volume,
    reference: Volume,
    *,
    transform: sitk.Transform | None = None,
    interpolator: str | Interpolator = Interpolator.LINEAR,
    default: float | None = None,
) -> Volume:
    """Sample ``volume`` on ``reference``'s grid.

    Args:
        volume: the image to resample (its own grid).
        reference: the grid to sample on (shape, spacing, origin, direction).
        transform: maps reference physical points to ``volume`` physical points (ITK convention,
            as a registration's fixed->moving transform); identity when None.
        interpolator: "nearest", "linear" or "bspline".
        default: value outside ``volume``; its minimum when None (air for CT, 0 for MR).

    Returns:
        A Volume on the reference grid with ``volume``'s modality and name.
    """
    method = parse_choice(Interpolator, interpolator, "interpolator")
    fill = float(np.min(volume.array)) if default is None else float(default)
    image = sitk.Resample(  # the reference's grid only: copying its voxels into SimpleITK is not needed
        volume.to_sitk(),
        [int(n) for n in reference.size_xyz],
        transform if transform is not None else sitk.Transform(3, sitk.sitkIdentity),
        _SITK_INTERPOLATORS[method],
        reference.origin,
        reference.spacing,
        reference.direction,
        fill,
        sitk.sitkFloat32,
    )
    return Volume.from_sitk(image, modality=volume.modality, name=volume.name)
