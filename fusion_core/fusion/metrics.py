"""Standard fusion quality metrics: MI with each source, entropy, SSIM with each source, Q^AB/F."""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.metrics import structural_similarity

from fusion_core.registration.quality import entropy_of_counts, mutual_information

# Xydeas & Petrović (2000) constants for edge strength (g) and orientation (alpha) preservation.
_GAMMA_G, _KAPPA_G, _SIGMA_G = 0.9994, -15.0, 0.5
_GAMMA_A, _KAPPA_A, _SIGMA_A = 0.9879, -22.0, 0.8


def luminance(image: np.ndarray) -> np.ndarray:
    """Grey level of an RGB (h, w, 3) image (ITU-R BT.601); 2-D images pass through."""
    image = np.asarray(image, dtype=np.float64)
    return image @ np.array([0.299, 0.587, 0.114]) if image.ndim == 3 else image


def entropy(image: np.ndarray, *, bins: int = 256) -> float:
    """Shannon entropy (bits) of the grey-level histogram over [0, 1]."""
    counts, _ = np.histogram(np.clip(image, 0, 1), bins=bins, range=(0.0, 1.0))
    return entropy_of_counts(counts)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Structural similarity of two [0, 1] images (scikit-image, data range 1)."""
    return float(structural_similarity(np.asarray(a, np.float64), np.asarray(b, np.float64), data_range=1.0))


def _sobel(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edge strength and orientation (radians) from Sobel filters."""
    image = np.asarray(image, dtype=np.float64)
    gx, gy = ndimage.sobel(image, axis=1), ndimage.sobel(image, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        angle = np.where(gx == 0, np.pi / 2, np.arctan(gy / np.where(gx == 0, 1, gx)))
    return np.hypot(gx, gy), angle


def _preservation(source: tuple[np.ndarray, np.ndarray], fused: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Q^{XF}: how well the fused image keeps each pixel's edge strength and orientation from source X."""
    (gs, as_), (gf, af) = source, fused
    with np.errstate(divide="ignore", invalid="ignore"):
        strength = np.where(gs > gf, gf / gs, np.where(gf > 0, gs / gf, 1.0))
    orientation = 1 - np.abs(as_ - af) / (np.pi / 2)
    q_g = _GAMMA_G / (1 + np.exp(_KAPPA_G * (strength - _SIGMA_G)))
    q_a = _GAMMA_A / (1 + np.exp(_KAPPA_A * (orientation - _SIGMA_A)))
    return q_g * q_a


def qabf(a: np.ndarray, b: np.ndarray, fused: np.ndarray) -> float:
    """Xydeas–Petrović edge-preservation metric Q^AB/F (0..1, higher keeps more source edges)."""
    ea, eb, ef = _sobel(a), _sobel(b), _sobel(fused)
    weight_a, weight_b = ea[0], eb[0]
    total = (weight_a + weight_b).sum()
    if total == 0:
        return 0.0
    return float((_preservation(ea, ef) * weight_a + _preservation(eb, ef) * weight_b).sum() / total)


def fusion_metrics(a: np.ndarray, b: np.ndarray, fused: np.ndarray, *, bins: int = 64) -> dict[str, float]:
    """All metrics for one fused slice; ``a``, ``b``, ``fused`` in [0, 1] (an RGB ``fused`` uses its luminance).

    Returns:
        {"MI(A;F)", "MI(B;F)", "MI total", "entropy", "SSIM(A,F)", "SSIM(B,F)", "Q^AB/F"} (MI in bits).
    """
    grey = luminance(fused)
    mi_a, mi_b = mutual_information(a, grey, bins=bins), mutual_information(b, grey, bins=bins)
    return {
        "MI(A;F)": mi_a,
        "MI(B;F)": mi_b,
        "MI total": mi_a + mi_b,
        "entropy": entropy(grey),
        "SSIM(A,F)": ssim(a, grey),
        "SSIM(B,F)": ssim(b, grey),
        "Q^AB/F": qabf(a, b, grey),
    }
