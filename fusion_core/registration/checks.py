"""Input checks run before registration, so bad input fails clearly instead of giving a wrong transform."""

from __future__ import annotations

import itertools

import numpy as np

from fusion_core.registration.errors import RegistrationError
from fusion_core.volume import Volume


def physical_bounds(volume: Volume) -> tuple[np.ndarray, np.ndarray]:
    """Axis-aligned (min, max) LPS corners (mm) of the box that holds the volume's voxel centres."""
    corners = np.array(list(itertools.product(*[(0, n - 1) for n in volume.size_xyz])), dtype=np.float64)
    points = volume.index_to_physical(corners)
    return points.min(axis=0), points.max(axis=0)


def check_pair(fixed: Volume, moving: Volume) -> None:
    """Raise :class:`RegistrationError` when ``fixed``/``moving`` cannot be registered.

    Checks: both images 3-D (more than one slice) and neither constant. Scans that do not overlap in
    physical space are not refused: the registration starts from their head centres
    (:mod:`fusion_core.registration.initialisation`).
    """
    flat = {name: min(vol.shape) == 1 for name, vol in (("fixed", fixed), ("moving", moving))}
    if all(flat.values()):
        raise RegistrationError(
            f"both images are single slices (fixed {fixed.shape}, moving {moving.shape}); "
            "only 3-D volume-to-volume registration is supported"
        )
    if any(flat.values()):
        two_d = "fixed" if flat["fixed"] else "moving"
        three_d = "moving" if flat["fixed"] else "fixed"
        raise RegistrationError(
            f"2-D/3-D mix: the {two_d} image is a single slice (shape {(fixed if flat['fixed'] else moving).shape}) "
            f"but the {three_d} image is a 3-D volume; register two 3-D volumes"
        )
    for name, vol in (("fixed", fixed), ("moving", moving)):
        lo, hi = float(vol.array.min()), float(vol.array.max())
        if not np.isfinite(lo) or not np.isfinite(hi):
            raise RegistrationError(f"the {name} image {vol.name!r} holds NaN or infinite values")
        if lo == hi:
            raise RegistrationError(
                f"the {name} image {vol.name!r} is constant (every voxel = {lo:g}); nothing to align"
            )
