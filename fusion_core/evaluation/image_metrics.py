"""Synthetic-CT image metrics in SynthRAD2023's definition (the challenge's evaluation code).

- MAE: mean absolute error (HU) inside the mask, on the volumes as given (no clipping).
- PSNR: both volumes clipped to [-1024, 3000] HU, mean squared error inside the mask, data range
  4024 HU.
- SSIM: ONE 3-D SSIM of the whole volume (scikit-image ``structural_similarity``: 7 x 7 x 7 uniform
  window, K1 = 0.01, K2 = 0.03, data range 4024 HU) after clipping both volumes to [-1024, 3000] HU,
  setting every voxel outside the mask to -1024 and shifting the values to start at 0; its SSIM map
  is averaged over the mask after cropping 3 voxels (half the window) off each border of the map and
  of the mask, as scikit-image crops its own mean. The shift matters: SSIM's luminance term is not
  shift-invariant, so the background is 0 in both volumes.
- bone Dice of the HU > 300 regions inside the mask.

The same PSNR and SSIM serve a normalised MR (no physical unit) through :class:`IntensityWindow`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from skimage.metrics import structural_similarity
from skimage.util import crop

from fusion_core.constants import BONE_HU, CT_HU_RANGE
from fusion_core.volume import Volume

SSIM_WINDOW = 7
"""Side of SSIM's cubic window (scikit-image's default, SynthRAD2023's); thinner volumes use a smaller odd one."""


@dataclasses.dataclass(frozen=True)
class IntensityWindow:
    """The values PSNR and SSIM see: clipped to [low, high]; ``data_range`` is the peak signal.

    Attributes:
        low: lower clip; also the value given to voxels outside the mask before SSIM.
        high: upper clip.
        data_range: the peak of PSNR and the L of SSIM's constants (K1 L)^2 and (K2 L)^2.
    """

    low: float
    high: float
    data_range: float


CT_WINDOW = IntensityWindow(*CT_HU_RANGE, data_range=CT_HU_RANGE[1] - CT_HU_RANGE[0])
"""SynthRAD2023's CT window: [-1024, 3000] HU, data range 4024 HU."""


def _prepare(pred: np.ndarray, true: np.ndarray, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Float64 copies of ``pred`` and ``true`` and a boolean mask (everything when None), checked."""
    pred, true = np.asarray(pred, np.float64), np.asarray(true, np.float64)
    if pred.shape != true.shape:
        raise ValueError(f"prediction {pred.shape} and truth {true.shape} differ in shape")
    mask = np.ones(true.shape, bool) if mask is None else np.asarray(mask, bool)
    if mask.shape != true.shape:
        raise ValueError(f"mask {mask.shape} does not match images {true.shape}")
    if not mask.any():
        raise ValueError("mask is empty: nothing to compare")
    return pred, true, mask


def mae_hu(pred: np.ndarray, true: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean absolute error (HU) inside ``mask``; SynthRAD2023 does not clip for the MAE."""
    p, t, m = _prepare(pred, true, mask)
    return float(np.abs(p - t)[m].mean())


def psnr(
    pred: np.ndarray, true: np.ndarray, mask: np.ndarray | None = None, *, window: IntensityWindow = CT_WINDOW
) -> float:
    """PSNR (dB) inside ``mask`` of both volumes clipped to ``window``, peak ``window.data_range``; inf if equal."""
    p, t, m = _prepare(pred, true, mask)
    p, t = np.clip(p, window.low, window.high), np.clip(t, window.low, window.high)
    mse = float(((p - t) ** 2)[m].mean())
    return float("inf") if mse == 0 else float(10 * np.log10(window.data_range**2 / mse))


def _window_side(shape: tuple[int, ...]) -> int:
    """SSIM's window side: 7, or the largest odd side that fits a thinner volume (at least 3)."""
    thinnest = min(shape)
    side = min(SSIM_WINDOW, thinnest if thinnest % 2 else thinnest - 1)
    if side < 3:
        raise ValueError(f"SSIM needs at least 3 voxels along every axis; the volume is {shape}")
    return side


def ssim(
    pred: np.ndarray, true: np.ndarray, mask: np.ndarray | None = None, *, window: IntensityWindow = CT_WINDOW
) -> float:
    """SynthRAD2023's SSIM: one n-D SSIM of the masked, clipped, shifted volumes, averaged over the mask.

    Args:
        pred, true: (z, y, x) volumes on one grid (HU for the default window).
        mask: boolean mask (None: everything, which gives scikit-image's mean SSIM).
        window: clip range and data range (default: [-1024, 3000] HU, 4024 HU).

    Returns:
        The mean of the SSIM map over the mask, both cropped by half the window at every border.

    Raises:
        ValueError: shapes differ, an empty mask, a volume under 3 voxels thick, or a mask that lies
            entirely within half a window of the border.
    """
    p, t, m = _prepare(pred, true, mask)
    p, t = (np.where(m, np.clip(a, window.low, window.high), window.low) - window.low for a in (p, t))
    side = _window_side(p.shape)
    ssim_map = structural_similarity(p, t, win_size=side, data_range=window.data_range, full=True)[1]
    inner = crop(m, (side - 1) // 2)
    if not inner.any():
        raise ValueError(f"the mask lies within {(side - 1) // 2} voxels of the border, where SSIM is undefined")
    return float(crop(ssim_map, (side - 1) // 2)[inner].mean(dtype=np.float64))


def bone_dice(
    pred: np.ndarray, true: np.ndarray, mask: np.ndarray | None = None, *, threshold: float = BONE_HU
) -> float:
    """Dice of the bone masks (HU > ``threshold``) inside ``mask``; 1.0 when both are empty."""
    p, t, m = _prepare(pred, true, mask)
    a, b = (p > threshold) & m, (t > threshold) & m
    total = a.sum() + b.sum()
    return 1.0 if total == 0 else float(2 * (a & b).sum() / total)


def image_metrics(pred: np.ndarray, true: np.ndarray, mask: np.ndarray | None = None) -> dict[str, float]:
    """{"mae_hu", "psnr_db", "ssim", "bone_dice"} of a synthetic CT against the real one."""
    return {
        "mae_hu": mae_hu(pred, true, mask),
        "psnr_db": psnr(pred, true, mask),
        "ssim": ssim(pred, true, mask),
        "bone_dice": bone_dice(pred, true, mask),
    }


def image_metrics_volume(pred: Volume, true: Volume, mask: Volume | None = None) -> dict[str, float]:
    """``image_metrics`` for Volumes on one grid (mask > 0.5 = inside)."""
    for name, vol in (("prediction", pred), ("mask", mask)):
        if vol is not None and not vol.same_grid(true):
            raise ValueError(f"{name} is not on the grid of the reference CT")
    return image_metrics(pred.array, true.array, None if mask is None else mask.array > 0.5)
