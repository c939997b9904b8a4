"""Alignment indicators that need no ground truth: mutual information, edge alignment, joint histogram."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _robust_range(values: np.ndarray) -> tuple[float, float]:
    lo, hi = np.percentile(values, [0.5, 99.5])
    return (float(lo), float(hi)) if hi > lo else (float(values.min()), float(values.max()) + 1e-6)


def joint_histogram(
    a: np.ndarray, b: np.ndarray, *, bins: int = 32, mask: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """2-D histogram of paired intensities (same shape arrays), over robust (0.5-99.5 %) ranges.

    Args:
        a, b: images of equal shape (e.g. fixed and resampled moving).
        bins: bins per axis.
        mask: bool array of the same shape; voxels outside are ignored.

    Returns:
        (counts (bins, bins) with a along rows, edges_a (bins+1,), edges_b (bins+1,)).
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"images must have the same shape, got {a.shape} and {b.shape}")
    if mask is not None:
        keep = np.asarray(mask, dtype=bool)
        a, b = a[keep], b[keep]
    a, b = a.ravel(), b.ravel()
    if a.size == 0:
        raise ValueError("no voxels to histogram (empty mask)")
    ra, rb = _robust_range(a), _robust_range(b)
    counts, edges_a, edges_b = np.histogram2d(np.clip(a, *ra), np.clip(b, *rb), bins=bins, range=[ra, rb])
    return counts, edges_a, edges_b


def entropy_of_counts(counts: np.ndarray) -> float:
    """Shannon entropy in bits of a histogram (any shape)."""
    p = np.asarray(counts, dtype=np.float64).ravel()
    p = p[p > 0] / p.sum()
    return float(-(p * np.log2(p)).sum())


def mutual_information(a: np.ndarray, b: np.ndarray, *, bins: int = 32, mask: np.ndarray | None = None) -> float:
    """Mutual information in bits, H(A) + H(B) - H(A, B), from the joint histogram."""
    counts, _, _ = joint_histogram(a, b, bins=bins, mask=mask)
    return _mutual_information_of_counts(counts)


def _mutual_information_of_counts(counts: np.ndarray) -> float:
    return entropy_of_counts(counts.sum(axis=1)) + entropy_of_counts(counts.sum(axis=0)) - entropy_of_counts(counts)


def gradient_correlation(a: np.ndarray, b: np.ndarray, *, mask: np.ndarray | None = None) -> float:
    """Edge alignment: Pearson correlation of the gradient magnitudes of two images (-1..1).

    Magnitudes rather than signed gradients, because CT and MR edges can have opposite polarity
    (bone is bright on CT, dark on MR).
    """
    ga, gb = (np.sqrt(sum(g**2 for g in np.gradient(np.asarray(x, dtype=np.float64)))) for x in (a, b))
    if mask is not None:
        keep = np.asarray(mask, dtype=bool)
        ga, gb = ga[keep], gb[keep]
    ga, gb = ga.ravel() - ga.mean(), gb.ravel() - gb.mean()
    denom = np.sqrt((ga**2).sum() * (gb**2).sum())
    return float((ga * gb).sum() / denom) if denom > 0 else 0.0


@dataclass(frozen=True)
class AlignmentQuality:
    """How well two images on one grid line up, without ground truth.

    Attributes:
        mutual_information: bits, from a 32-bin joint histogram.
        gradient_correlation: edge alignment (-1..1; 1 = edges coincide).
        joint_histogram: (counts (bins, bins), edges_a (bins+1,), edges_b (bins+1,)), as :func:`joint_histogram`.
    """

    mutual_information: float
    gradient_correlation: float
    joint_histogram: tuple[np.ndarray, np.ndarray, np.ndarray]


def alignment_quality(fixed: np.ndarray, resampled: np.ndarray, *, mask: np.ndarray | None = None) -> AlignmentQuality:
    """Mutual information, edge alignment and joint histogram of a fixed image and a moving image on its grid.

    Args:
        fixed: (z, y, x) fixed image.
        resampled: (z, y, x) moving image resampled onto the fixed grid.
        mask: (z, y, x) bool; voxels outside are ignored (e.g. the CT's head mask).

    Returns:
        The three indicators, computed on the same voxels.
    """
    histogram = joint_histogram(fixed, resampled, mask=mask)
    return AlignmentQuality(
        mutual_information=_mutual_information_of_counts(histogram[0]),
        gradient_correlation=gradient_correlation(fixed, resampled, mask=mask),
        joint_histogram=histogram,
    )
