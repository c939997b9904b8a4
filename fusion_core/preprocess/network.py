"""The intensity scaling every network uses, the same at training and inference (numpy only).

* CT: Hounsfield units clipped to [-1024, 3000] and mapped piecewise-linearly to [-1, 1] with
  knots chosen to keep soft-tissue contrast (-100..100 HU spans 0.5 units instead of 0.05 with a
  single linear map): ``CT_KNOTS_HU`` -> ``CT_KNOTS_UNIT``. ``unit_to_ct`` inverts it exactly.
* MR: percentiles (0.5, 99.5) of the voxels inside a head mask found on the MR itself (Otsu
  threshold, holes filled slice-wise) mapped to [-1, 1] and clipped, so site gain and bias do not
  change the network's input range. Each MR weighting is scaled on its own.
"""

from __future__ import annotations

import numpy as np

from fusion_core.preprocess.masks import mr_head_mask

CT_KNOTS_HU = np.array([-1024.0, -200.0, -100.0, 100.0, 300.0, 3000.0])
CT_KNOTS_UNIT = np.array([-1.0, -0.6, -0.5, 0.0, 0.2, 1.0])
MR_PERCENTILES = (0.5, 99.5)
# Generated MR comes back on this arbitrary-unit scale (the network's within-head range mapped to 0..1000).
MR_DISPLAY_RANGE = 1000.0


SLAB = 16  # slices mapped at a time: numpy's float64 temporaries stay small for a full-size CT


def by_slabs(fn, array: np.ndarray, *, out: np.ndarray | None = None) -> np.ndarray:
    """``fn`` (element-wise) applied ``SLAB`` slices at a time into one float32 array of ``array``'s shape.

    The same numbers as ``fn(array)``, without its full-size float64 temporaries (np.interp and
    arithmetic on float32 input return float64: 800 MB each for a 512 x 512 x 400 CT). ``out`` (float32,
    may be ``array`` itself) receives the result in place.
    """
    array = np.asarray(array)
    if out is None and (array.ndim < 3 or len(array) <= SLAB):
        return np.asarray(fn(array), dtype=np.float32)
    out = np.empty(array.shape, np.float32) if out is None else out
    for start in range(0, len(array), SLAB):
        out[start : start + SLAB] = fn(array[start : start + SLAB])
    return out


def ct_to_unit(hu: np.ndarray) -> np.ndarray:
    """HU -> network units in [-1, 1] (piecewise linear, see module docstring)."""
    return by_slabs(lambda a: np.interp(np.clip(a, CT_KNOTS_HU[0], CT_KNOTS_HU[-1]), CT_KNOTS_HU, CT_KNOTS_UNIT), hu)


def unit_to_ct(unit: np.ndarray, *, out: np.ndarray | None = None) -> np.ndarray:
    """Network units -> HU; inverse of ``ct_to_unit`` on [-1, 1] (values outside are clipped)."""
    return by_slabs(lambda a: np.interp(np.clip(a, -1.0, 1.0), CT_KNOTS_UNIT, CT_KNOTS_HU), unit, out=out)


def mr_to_unit(array: np.ndarray, mask: np.ndarray | None = None) -> tuple[np.ndarray, dict[str, float]]:
    """MR (z, y, x) -> [-1, 1] by within-head percentiles.

    Returns:
        (scaled array float32, {"low": p0.5, "high": p99.5} used).
    """
    mask = mr_head_mask(array) if mask is None else mask
    values = array[mask] if mask.any() else array.ravel()
    low, high = (float(v) for v in np.percentile(values, MR_PERCENTILES))
    span = max(high - low, 1e-6)
    return by_slabs(lambda a: np.clip(2.0 * (a - low) / span - 1.0, -1.0, 1.0), array), {"low": low, "high": high}


def unit_to_mr(unit: np.ndarray, *, out: np.ndarray | None = None) -> np.ndarray:
    """Network units -> MR on the 0..``MR_DISPLAY_RANGE`` arbitrary-unit scale of generated MR."""
    return by_slabs(lambda a: (np.clip(a, -1.0, 1.0) + 1.0) / 2.0 * MR_DISPLAY_RANGE, unit, out=out)
