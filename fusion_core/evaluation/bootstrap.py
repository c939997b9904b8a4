"""Stratified bootstrap resampling shared by the AUC intervals and the classification table."""

from __future__ import annotations

import numpy as np


def stratified_indices(labels: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Bootstrap resamples that keep the class counts (every resample holds both classes).

    Args:
        labels: (n,) 0/1 truth.
        n_boot: number of resamples.
        seed: seed of ``numpy.random.default_rng``.

    Returns:
        (n_boot, n) int indices into ``labels``; in every row the first ``n_pos`` columns are
        positives and the remaining ``n_neg`` negatives, drawn with replacement within each class.
    """
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    return np.concatenate(
        [pos[rng.integers(0, len(pos), (n_boot, len(pos)))], neg[rng.integers(0, len(neg), (n_boot, len(neg)))]],
        axis=1,
    )
