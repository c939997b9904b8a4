"""Target registration error against a known transform, and points to measure it at."""

from __future__ import annotations

import dataclasses

import numpy as np
import SimpleITK as sitk

from fusion_core.volume import Volume


def transform_points(transform: sitk.Transform, points_mm: np.ndarray) -> np.ndarray:
    """Apply a SimpleITK transform to (n, 3) LPS points; returns (n, 3) mm."""
    points = np.atleast_2d(np.asarray(points_mm, dtype=np.float64))
    return np.array([transform.TransformPoint(tuple(p)) for p in points]).reshape(points.shape)


def target_registration_error(estimated: sitk.Transform, true: sitk.Transform, points_mm: np.ndarray) -> np.ndarray:
    """Distances ||estimated(p) - true(p)|| in mm for each point p of the fixed space.

    Args:
        estimated: registration result (fixed -> moving physical points).
        true: ground-truth transform, same convention.
        points_mm: (n, 3) LPS points in the fixed image's space.

    Returns:
        (n,) float64 distances in mm.
    """
    points = np.atleast_2d(np.asarray(points_mm, dtype=np.float64))
    if points.ndim != 2 or points.shape[1] != 3:
        raise ValueError(f"points_mm must have shape (n, 3), got {points.shape}")
    return np.linalg.norm(transform_points(estimated, points) - transform_points(true, points), axis=1)


@dataclasses.dataclass(frozen=True)
class TREComparison:
    """Target registration error at the same points before (scanner coordinates) and after registration.

    Attributes:
        before_mm: (n,) errors of the identity transform (the scans as they came), mm.
        after_mm: (n,) errors of the estimated transform, mm.
    """

    before_mm: np.ndarray
    after_mm: np.ndarray

    @property
    def median_before(self) -> float:
        """Median error before registration, mm."""
        return float(np.median(self.before_mm))

    @property
    def max_before(self) -> float:
        """Largest error before registration, mm."""
        return float(np.max(self.before_mm))

    @property
    def median_after(self) -> float:
        """Median error after registration, mm."""
        return float(np.median(self.after_mm))

    @property
    def max_after(self) -> float:
        """Largest error after registration, mm."""
        return float(np.max(self.after_mm))


def tre_before_after(estimated: sitk.Transform, true: sitk.Transform, points_mm: np.ndarray) -> TREComparison:
    """TRE of the registration and of no registration at all (identity), at the same fixed-space points.

    Args:
        estimated: registration result (fixed -> moving physical points).
        true: ground-truth transform, same convention.
        points_mm: (n, 3) LPS points in the fixed image's space.
    """
    identity = sitk.Transform(3, sitk.sitkIdentity)
    return TREComparison(
        before_mm=target_registration_error(identity, true, points_mm),
        after_mm=target_registration_error(estimated, true, points_mm),
    )


def sample_points_in_mask(mask: Volume | np.ndarray, n: int = 100, *, reference: Volume | None = None, seed: int = 0):
    """Draw ``n`` voxel centres inside a mask and return their LPS positions (mm).

    Args:
        mask: a mask Volume, or a (z, y, x) bool array on ``reference``'s grid.
        n: number of points (fewer when the mask has fewer voxels).
        reference: the grid of an array mask.
        seed: random seed (the same seed gives the same points).

    Returns:
        (n, 3) float64 LPS points.
    """
    grid = mask if isinstance(mask, Volume) else reference
    if grid is None:
        raise ValueError("an array mask needs reference= to place its voxels in physical space")
    array = mask.array if isinstance(mask, Volume) else np.asarray(mask)
    zyx = np.argwhere(array > 0)
    if len(zyx) == 0:
        raise ValueError("mask is empty: no points to measure the registration error at")
    rng = np.random.default_rng(seed)
    chosen = zyx[rng.choice(len(zyx), size=min(n, len(zyx)), replace=False)]
    return grid.index_to_physical(chosen[:, ::-1].astype(np.float64))
