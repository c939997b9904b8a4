"""Scanner side of the phantom: image grids, and the blur / noise / bias a site adds.

Array functions take and return float32 (z, y, x) arrays; grids are described by :class:`Grid`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

from fusion_core.volume import Volume

_IDENTITY = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)


@dataclasses.dataclass(frozen=True)
class Grid:
    """A voxel grid in physical (LPS) space.

    Attributes:
        shape: (z, y, x) voxel counts.
        spacing: (sx, sy, sz) mm.
        origin: (ox, oy, oz) mm, position of voxel (0, 0, 0).
        direction: 9 floats, row-major direction cosines.
    """

    shape: tuple[int, int, int]
    spacing: tuple[float, float, float]
    origin: tuple[float, float, float]
    direction: tuple[float, ...] = _IDENTITY

    @property
    def voxel_mm(self) -> float:
        """Geometric-mean voxel width: the partial-volume ramp width."""
        return float(np.prod(self.spacing) ** (1.0 / 3.0))

    def volume(self, array: np.ndarray, *, modality: str, name: str = "") -> Volume:
        """Wrap a (z, y, x) array on this grid."""
        return Volume(
            array.reshape(self.shape),
            spacing=self.spacing,
            origin=self.origin,
            direction=self.direction,
            modality=modality,
            name=name,
        )

    def sub_slab(self, z0: int, z1: int) -> Grid:
        """The slices ``z0:z1`` as a grid of their own."""
        origin = np.reshape(self.direction, (3, 3)) @ (np.array([0.0, 0.0, z0]) * self.spacing) + self.origin
        return dataclasses.replace(self, shape=(z1 - z0, *self.shape[1:]), origin=tuple(float(o) for o in origin))

    def refined(self, factor: int) -> Grid:
        """A grid with ``factor`` sub-voxels per axis whose centres tile each voxel evenly."""
        spacing = tuple(s / factor for s in self.spacing)
        shift = (0.5 / factor - 0.5) * np.asarray(self.spacing)
        origin = np.reshape(self.direction, (3, 3)) @ shift + self.origin
        shape = tuple(n * factor for n in self.shape)
        return dataclasses.replace(self, shape=shape, spacing=spacing, origin=tuple(float(o) for o in origin))

    def points(self) -> np.ndarray:
        """(3, n) float32 physical coordinates of every voxel, flattened in (z, y, x) C order."""
        nz, ny, nx = self.shape
        matrix = np.reshape(self.direction, (3, 3)) @ np.diag(self.spacing)
        axes = [np.arange(n, dtype=np.float32) for n in (nx, ny, nz)]
        out = np.empty((3, nz, ny, nx), dtype=np.float32)
        for row in range(3):
            out[row] = (
                np.float32(self.origin[row])
                + np.float32(matrix[row, 0]) * axes[0][None, None, :]
                + np.float32(matrix[row, 1]) * axes[1][None, :, None]
                + np.float32(matrix[row, 2]) * axes[2][:, None, None]
            )
        return out.reshape(3, -1)


def centred_grid(
    size_xy: int, n_slices: int, spacing: tuple[float, float, float], center: tuple[float, float, float]
) -> Grid:
    """An axial (identity-direction) grid whose centre lies at ``center`` (mm)."""
    size = np.array([size_xy, size_xy, n_slices], dtype=float)
    origin = np.asarray(center, dtype=float) - (size - 1) / 2.0 * np.asarray(spacing)
    return Grid((n_slices, size_xy, size_xy), tuple(float(s) for s in spacing), tuple(float(o) for o in origin))


def blur(array: np.ndarray, sigma_mm: float, spacing: tuple[float, float, float]) -> np.ndarray:
    """Gaussian blur of a (z, y, x) array with an isotropic physical sigma (mm)."""
    if sigma_mm <= 0:
        return array
    sigma = [sigma_mm / s for s in spacing[::-1]]
    return ndimage.gaussian_filter(array, sigma=sigma, mode="nearest", truncate=3.0).astype(np.float32, copy=False)


def bias_field(grid: Grid, strength: float, rng: np.random.Generator) -> np.ndarray:
    """A smooth multiplicative MR bias field, exp of a random quadratic in scanner coordinates.

    Built from 1-D axes with broadcasting, so it costs a few passes over the volume.

    Returns:
        (z, y, x) float32, mean about 1; ``strength`` is the log-amplitude (0 = no bias).
    """
    nz, ny, nx = grid.shape
    coords = []
    for n, s in zip((nx, ny, nz), grid.spacing, strict=True):
        c = (np.arange(n, dtype=np.float32) - (n - 1) / 2) * np.float32(s / 100.0)
        coords.append(c)
    x, y, z = coords[0][None, None, :], coords[1][None, :, None], coords[2][:, None, None]
    a = rng.normal(size=9).astype(np.float32)
    log_field = (a[0] * x + a[1] * y + a[2] * z) * np.float32(0.6)
    log_field = log_field + np.float32(0.35) * (a[3] * x * x + a[4] * y * y + a[5] * z * z)
    log_field = log_field + np.float32(0.35) * (a[6] * x * y + a[7] * y * z + a[8] * x * z)
    log_field = log_field - log_field.mean()
    scale = np.float32(strength / max(float(log_field.std()), 1e-6))
    return np.exp(log_field * scale).astype(np.float32)


def rician(signal: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Magnitude of a complex signal with Gaussian noise in both channels (Rician statistics)."""
    sigma = np.float32(sigma)
    real = signal + sigma * rng.standard_normal(signal.shape, dtype=np.float32)
    imag = sigma * rng.standard_normal(signal.shape, dtype=np.float32)
    return np.sqrt(real * real + imag * imag)


def euler_transform(
    rotation_deg: np.ndarray, translation_mm: np.ndarray, center_mm: np.ndarray
) -> sitk.Euler3DTransform:
    """A SimpleITK rigid transform (x, y, z Euler angles in degrees) about ``center_mm``."""
    transform = sitk.Euler3DTransform()
    transform.SetCenter([float(c) for c in center_mm])
    transform.SetRotation(*[float(np.deg2rad(a)) for a in rotation_deg])
    transform.SetTranslation([float(t) for t in translation_mm])
    return transform


def inverse_map_points(transform: sitk.Euler3DTransform, points: np.ndarray) -> np.ndarray:
    """Map (3, n) points through the inverse of a rigid transform (vectorised).

    ITK rigid: T(x) = R (x - c) + c + t, so T^-1(y) = R^T (y - c - t) + c.
    """
    matrix = np.reshape(transform.GetMatrix(), (3, 3)).astype(np.float32)
    center = np.asarray(transform.GetCenter(), dtype=np.float32)[:, None]
    offset = center + np.asarray(transform.GetTranslation(), dtype=np.float32)[:, None]
    return matrix.T @ (points - offset) + center
