"""CT display windows (level/width in HU), shared by the viewer and the fusion page."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class WindowPreset(NamedTuple):
    """A CT window: centre ``level`` and ``width``, both in HU."""

    level: float
    width: float


WINDOW_PRESETS: dict[str, WindowPreset] = {
    "brain": WindowPreset(40.0, 80.0),
    "subdural": WindowPreset(75.0, 215.0),
    "stroke": WindowPreset(40.0, 40.0),
    "soft tissue": WindowPreset(50.0, 400.0),
    "bone": WindowPreset(600.0, 2800.0),
}


def apply_window(array: np.ndarray, level: float, width: float) -> np.ndarray:
    """Map HU values through a window onto [0, 1] (below the window 0, above it 1).

    Args:
        array: any shape, HU.
        level: window centre (HU).
        width: window width (HU), > 0.

    Returns:
        float32 array of the same shape in [0, 1].
    """
    if not width > 0:
        raise ValueError(f"window width must be positive, got {width}")
    low = level - width / 2.0
    out = (np.asarray(array, dtype=np.float32) - np.float32(low)) / np.float32(width)
    return np.clip(out, 0.0, 1.0)
