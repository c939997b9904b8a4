"""Shared fixtures: tiny seeded volumes (16^3) so every test runs in milliseconds; test tiers.

Tiers (``make test`` runs all; ``make test-fast`` deselects ``slow``, ``e2e`` and ``app``): tests under
``tests/e2e`` drive a browser (``e2e``, also ``slow``), tests under ``tests/app`` run pages in AppTest
(``app``), and the engine tests in ``SLOW`` are ``slow`` by measured duration.
"""

from __future__ import annotations

from pathlib import Path

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


TESTS = Path(__file__).resolve().parent
# Engine tests over ~5 s each (``pytest --durations``, 2 shared cores), by node id prefix.
SLOW: tuple[str, ...] = ()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests by tier: the browser and AppTest folders, and the measured slow engine tests."""
    for item in items:
        folder = Path(item.path).relative_to(TESTS).parts[0]
        if folder == "e2e":
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.slow)
        elif folder == "app":
            item.add_marker(pytest.mark.app)
        if item.nodeid.startswith(SLOW):
            item.add_marker(pytest.mark.slow)
