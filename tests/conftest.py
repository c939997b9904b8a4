"""Shared fixtures: tiny seeded volumes (16^3) so every test runs in milliseconds."""

from __future__ import annotations

import numpy as np
import pytest

from fusion_core.volume import Volume


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def small_ct(rng: np.random.Generator) -> Volume:
    """A 16^3 CT-like volume: air around a water sphere with a bony shell, in HU."""
    z, y, x = np.mgrid[:16, :16, :16] - 7.5
    r = np.sqrt(x**2 + y**2 + z**2)
    array = np.full((16, 16, 16), -1000.0)
    array[r < 7] = 800.0
    array[r < 6] = 30.0
    array += rng.normal(0, 5, array.shape)
    return Volume(array.astype(np.float32), spacing=(1.5, 1.5, 2.0), origin=(-12.0, -12.0, -16.0), modality="CT")


@pytest.fixture
def oblique_direction() -> tuple[float, ...]:
    """A proper rotation (20 deg about z, then 10 deg about x), row-major."""
    a, b = np.deg2rad(20), np.deg2rad(10)
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    return tuple((rz @ rx).ravel())
