"""ROC curves and AUC with (paired) bootstrap 95% confidence intervals."""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class AUCResult:
    """AUC with a percentile bootstrap confidence interval.

    Attributes:
        auc: AUC on the full sample.
        low, high: bounds of the (1 - alpha) percentile bootstrap interval.
        n_pos, n_neg: class counts.
        n_boot: bootstrap resamples used (resamples with a single class are skipped).
        alpha: 1 - confidence level.
        seed: bootstrap seed.
    """

    auc: float
    low: float
    high: float
    n_pos: int
    n_neg: int
    n_boot: int
    alpha: float
    seed: int

    def as_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)


def _check(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(labels).astype(int).ravel()
    scores = np.asarray(scores, dtype=float).ravel()
    if labels.shape != scores.shape:
        raise ValueError(f"labels {labels.shape} and scores {scores.shape} differ in length")
    if set(np.unique(labels)) != {0, 1}:
        raise ValueError("AUC needs both classes (labels 0 and 1) among the samples")
    return labels, scores


def auc_score(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U / (n_pos n_neg), ties count 1/2)."""
    from scipy.stats import rankdata

    labels, scores = _check(labels, scores)
    ranks = rankdata(scores)
    n_pos = labels.sum()
    n_neg = len(labels) - n_pos
    return float((ranks[labels == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def roc_curve_points(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(false positive rate, true positive rate, thresholds), starting at (0, 0)."""
    from sklearn.metrics import roc_curve

    labels, scores = _check(labels, scores)
    fpr, tpr, thr = roc_curve(labels, scores)
    return fpr, tpr, thr


def _boot_indices(labels: np.ndarray, n_boot: int, seed: int) -> list[np.ndarray]:
    """Stratified bootstrap resamples (each keeps the class counts, so every resample has both classes)."""
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    return [np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))]) for _ in range(n_boot)]


def auc_with_ci(
    labels: np.ndarray, scores: np.ndarray, *, n_boot: int = 1000, alpha: float = 0.05, seed: int = 0
) -> AUCResult:
    """AUC with a stratified percentile-bootstrap (1 - alpha) confidence interval.

    Args:
        labels: (n,) 0/1 truth.
        scores: (n,) higher = more likely positive.
        n_boot: bootstrap resamples.
        alpha: 0.05 gives a 95% interval.
        seed: resampling seed (the result records it).
    """
    labels, scores = _check(labels, scores)
    boots = np.array([auc_score(labels[i], scores[i]) for i in _boot_indices(labels, n_boot, seed)])
    low, high = np.quantile(boots, [alpha / 2, 1 - alpha / 2])
    n_pos = int(labels.sum())
    return AUCResult(
        auc_score(labels, scores), float(low), float(high), n_pos, len(labels) - n_pos, n_boot, alpha, seed
    )


def auc_difference_ci(
    labels: np.ndarray,
    scores_a: np.ndarray,
    scores_b: np.ndarray,
    *,
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
) -> dict[str, float]:
    """AUC(a) - AUC(b) with a paired bootstrap interval (same resamples for both)."""
    labels, scores_a = _check(labels, scores_a)
    _, scores_b = _check(labels, scores_b)
    diffs = np.array(
        [
            auc_score(labels[i], scores_a[i]) - auc_score(labels[i], scores_b[i])
            for i in _boot_indices(labels, n_boot, seed)
        ]
    )
    low, high = np.quantile(diffs, [alpha / 2, 1 - alpha / 2])
    return {
        "difference": auc_score(labels, scores_a) - auc_score(labels, scores_b),
        "low": float(low),
        "high": float(high),
        "n_boot": n_boot,
        "seed": seed,
    }
