"""Synthetic-CT image metrics following SynthRAD2023 conventions.

MAE in HU inside a (head) mask; PSNR and SSIM on images clipped to [-1024, 3000] HU with data range
4024 HU, averaged inside the mask; bone Dice of the HU > 300 regions inside the mask.
"""

from __future__ import annotations

import numpy as np
from skimage.metrics import structural_similarity

from fusion_core.constants import BONE_HU
from fusion_core.volume import Volume

HU_RANGE = (-1024.0, 3000.0)


def _prepare(pred: np.ndarray, true: np.ndarray, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if pred.shape != true.shape:
        raise ValueError(f"prediction {pred.shape} and truth {true.shape} differ in shape")
    mask = np.ones(true.shape, bool) if mask is None else np.asarray(mask, bool)
    if mask.shape != true.shape:
        raise ValueError(f"mask {mask.shape} does not match images {true.shape}")
    if not mask.any():
        raise ValueError("mask is empty: nothing to compare")
    lo, hi = HU_RANGE
    return np.clip(pred, lo, hi).astype(np.float64), np.clip(true, lo, hi).astype(np.float64), mask


def mae_hu(pred: np.ndarray, true: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean absolute error (HU) inside ``mask`` after clipping to [-1024, 3000]."""
    p, t, m = _prepare(pred, true, mask)
    return float(np.abs(p - t)[m].mean())


def psnr(pred: np.ndarray, true: np.ndarray, mask: np.ndarray | None = None) -> float:
    """PSNR (dB) inside ``mask`` with data range 4024 HU."""
    p, t, m = _prepare(pred, true, mask)
    mse = float(((p - t) ** 2)[m].mean())
    data_range = HU_RANGE[1] - HU_RANGE[0]
    return float("inf") if mse == 0 else float(10 * np.log10(data_range**2 / mse))


def ssim(pred: np.ndarray, true: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean SSIM inside ``mask``; images (z, y, x) clipped to [-1024, 3000], background set to -1024.

    The SSIM map is computed slice-wise in 2-D (7x7 Gaussian-free window, skimage defaults).
    """
    p, t, m = _prepare(pred, true, mask)
    p = np.where(m, p, HU_RANGE[0])
    t = np.where(m, t, HU_RANGE[0])
    data_range = HU_RANGE[1] - HU_RANGE[0]
    maps = [structural_similarity(a, b, data_range=data_range, full=True)[1] for a, b in zip(p, t, strict=True)]
    return float(np.stack(maps)[m].mean())


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
