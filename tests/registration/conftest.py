"""A tiny synthetic CT/MR head pair with a known rigid misalignment (independent of the phantom module)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import SimpleITK as sitk

from fusion_core.registration.tre import transform_points
from fusion_core.volume import Volume

# Tissue order: air, scalp, skull, brain, ventricle, blob. CT HU vs MR T1-like: non-monotonic.
CT_VALUES = np.array([-1000.0, 40.0, 1200.0, 35.0, 8.0, 70.0])
MR_VALUES = np.array([0.0, 700.0, 60.0, 450.0, 150.0, 900.0])
# (radii, centre) in mm; later shapes overwrite earlier ones.
SHAPES = [
    ((48, 58, 44), (0, 0, 0)),
    ((44, 54, 40), (0, 0, 0)),
    ((39, 49, 35), (0, 0, 0)),
    ((8, 18, 9), (6, -5, 0)),
    ((10, 7, 8), (-20, 22, 10)),
]


@dataclasses.dataclass
class SyntheticPair:
    ct: Volume
    mr: Volume
    true_transform: sitk.Transform
    head: Volume


def _labels_at(points: np.ndarray) -> np.ndarray:
    """Tissue label at each (n, 3) physical point (mm)."""
    labels = np.zeros(len(points), np.int64)
    for k, (radii, centre) in enumerate(SHAPES, start=1):
        labels[(((points - centre) / radii) ** 2).sum(axis=1) < 1] = k
    return labels


def _render(grid: Volume, values: np.ndarray, transform: sitk.Transform | None, supersample: int = 2) -> np.ndarray:
    """Average tissue values over sub-voxel points (partial volume); points mapped by ``transform``."""
    offsets = (np.arange(supersample) + 0.5) / supersample - 0.5
    z, y, x = np.meshgrid(*[np.arange(n) for n in grid.shape], indexing="ij")
    total = np.zeros(grid.shape)
    for dz in offsets:
        for dy in offsets:
            for dx in offsets:
                index = np.stack([(x + dx).ravel(), (y + dy).ravel(), (z + dz).ravel()], axis=1)
                points = grid.index_to_physical(index)
                if transform is not None:
                    points = transform_points(transform, points) if len(points) < 5000 else _fast(transform, points)
                total += values[_labels_at(points)].reshape(grid.shape)
    return total / supersample**3


def _fast(transform: sitk.Euler3DTransform, points: np.ndarray) -> np.ndarray:
    matrix = np.reshape(transform.GetMatrix(), (3, 3))
    centre, shift = np.array(transform.GetCenter()), np.array(transform.GetTranslation())
    return (points - centre) @ matrix.T + centre + shift


def make_pair(
    size: int = 40, spacing: float = 3.0, *, rotation_deg=(6.0, -4.0, 10.0), shift_mm=(7.0, -5.0, 4.0), seed: int = 0
) -> SyntheticPair:
    """CT on a centred grid; MR on its own grid, showing the anatomy moved by the true transform."""
    origin = (-(size - 1) / 2.0 * spacing,) * 3
    ct_grid = Volume(
        np.zeros((size,) * 3, np.float32), spacing=(spacing,) * 3, origin=origin, modality="CT", name="synthetic CT"
    )
    mr_grid = Volume(
        np.zeros((size,) * 3, np.float32),
        spacing=(spacing * 1.1,) * 3,
        origin=tuple(o * 1.1 + 3 for o in origin),
        modality="MR-T1",
        name="synthetic MR",
    )
    true = sitk.Euler3DTransform()
    true.SetRotation(*np.deg2rad(rotation_deg))
    true.SetTranslation(shift_mm)
    rng = np.random.default_rng(seed)
    ct = _render(ct_grid, CT_VALUES, None) + rng.normal(0, 5, ct_grid.shape)
    # The MR at q shows the anatomy found at p = true^-1(q) in CT space.
    mr = np.abs(_render(mr_grid, MR_VALUES, true.GetInverse()) + rng.normal(0, 15, mr_grid.shape))
    head = ct_grid.with_array((_render(ct_grid, np.array([0.0, 1, 1, 1, 1, 1]), None) > 0.5).astype(np.float32))
    return SyntheticPair(
        ct_grid.with_array(ct.astype(np.float32)), mr_grid.with_array(mr.astype(np.float32)), true, head
    )


@pytest.fixture(scope="session")
def synthetic_pair() -> SyntheticPair:
    return make_pair()
