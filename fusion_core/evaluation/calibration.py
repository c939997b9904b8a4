"""Calibration: reliability curve, expected calibration error (ECE) and temperature scaling.

Bins are equal-width on [0, 1] (a probability of exactly 1 falls in the last bin); the ECE is the
count-weighted mean over bins of |mean predicted probability - observed positive frequency|.
Temperature scaling divides a classifier's logits by one scalar T > 0 fitted by minimising the
negative log-likelihood on held-out labels (T > 1 softens an over-confident classifier); it never
changes the ranking, so ROC and AUC are untouched.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.optimize import minimize_scalar

from fusion_core.evaluation.errors import EvaluationError

TEMPERATURE_RANGE = (1e-2, 1e2)


@dataclasses.dataclass(frozen=True)
class ReliabilityCurve:
    """Per-bin calibration of probabilities (empty bins hold NaN and count 0).

    Attributes:
        bin_centres: (n_bins,) centres of the equal-width bins on [0, 1].
        mean_predicted: (n_bins,) mean predicted probability in each bin.
        observed_frequency: (n_bins,) fraction of positives in each bin.
        counts: (n_bins,) int samples per bin.
    """

    bin_centres: np.ndarray
    mean_predicted: np.ndarray
    observed_frequency: np.ndarray
    counts: np.ndarray

    @property
    def ece(self) -> float:
        """Expected calibration error: count-weighted mean |mean_predicted - observed_frequency|."""
        gap = np.nan_to_num(np.abs(self.mean_predicted - self.observed_frequency))
        return float((gap * self.counts).sum() / self.counts.sum())


def _check_probabilities(labels: np.ndarray, probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(labels).ravel()
    probs = np.asarray(probabilities, dtype=float).ravel()
    if labels.shape != probs.shape or probs.size == 0:
        raise EvaluationError(f"labels {labels.shape} and probabilities {probs.shape} must be equal, non-empty")
    if not np.isin(labels, (0, 1)).all():
        raise EvaluationError("labels must be 0 or 1")
    if not (np.isfinite(probs).all() and probs.min() >= 0 and probs.max() <= 1):
        raise EvaluationError("probabilities must be finite and within [0, 1]")
    return labels.astype(float), probs


def reliability_curve(labels: np.ndarray, probabilities: np.ndarray, *, n_bins: int = 10) -> ReliabilityCurve:
    """Mean predicted probability and observed frequency of positives in equal-width bins.

    Args:
        labels: (n,) 0/1 truth (one class alone is allowed).
        probabilities: (n,) predicted probabilities of the positive class, in [0, 1].
        n_bins: number of equal-width bins on [0, 1].

    Raises:
        EvaluationError: lengths differ, empty input, labels not 0/1, probabilities outside [0, 1].
    """
    if n_bins < 1:
        raise EvaluationError(f"n_bins must be at least 1, got {n_bins}")
    labels, probs = _check_probabilities(labels, probabilities)
    bins = np.minimum((probs * n_bins).astype(int), n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.bincount(bins, weights=probs, minlength=n_bins) / counts
        freq = np.bincount(bins, weights=labels, minlength=n_bins) / counts
    centres = (np.arange(n_bins) + 0.5) / n_bins
    return ReliabilityCurve(centres, mean_p, freq, counts)


def expected_calibration_error(labels: np.ndarray, probabilities: np.ndarray, *, n_bins: int = 10) -> float:
    """Expected calibration error over ``n_bins`` equal-width bins, weighted by bin count.

    Args:
        labels: (n,) 0/1 truth.
        probabilities: (n,) predicted probabilities in [0, 1].
        n_bins: number of equal-width bins on [0, 1].
    """
    return reliability_curve(labels, probabilities, n_bins=n_bins).ece


def probability_to_logit(probabilities: np.ndarray, *, eps: float = 1e-6) -> np.ndarray:
    """log(p / (1 - p)), with p clipped to [eps, 1 - eps] so that 0 and 1 stay finite."""
    p = np.clip(np.asarray(probabilities, dtype=float), eps, 1 - eps)
    return np.log(p) - np.log1p(-p)


def apply_temperature(logits: np.ndarray, temperature: float) -> np.ndarray:
    """Calibrated probabilities sigmoid(logit / T).

    Raises:
        EvaluationError: T is not a positive finite number.
    """
    if not (np.isfinite(temperature) and temperature > 0):
        raise EvaluationError(f"temperature must be positive and finite, got {temperature}")
    return 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=float) / temperature))


def _nll(labels: np.ndarray, logits: np.ndarray, temperature: float) -> float:
    z = logits / temperature
    # -log sigmoid(z) = log(1 + e^-z) for positives, -log(1 - sigmoid(z)) = log(1 + e^z) for negatives
    return float(np.mean(np.logaddexp(0.0, np.where(labels == 1, -z, z))))


def fit_temperature(labels: np.ndarray, logits: np.ndarray) -> float:
    """Temperature T minimising the mean negative log-likelihood of sigmoid(logit / T).

    A bounded scalar search over log T in [log 0.01, log 100] (scipy ``minimize_scalar``).

    Args:
        labels: (n,) 0/1 truth (a held-out split, not the test split).
        logits: (n,) the classifier's logits (see :func:`probability_to_logit` for probabilities).

    Returns:
        T > 0 (> 1: the classifier was over-confident).
    """
    labels, _ = _check_probabilities(labels, np.full(np.shape(labels), 0.5))
    logits = np.asarray(logits, dtype=float).ravel()
    if logits.shape != labels.shape or not np.isfinite(logits).all():
        raise EvaluationError(f"logits {logits.shape} must be finite and match labels {labels.shape}")
    lo, hi = np.log(TEMPERATURE_RANGE)
    res = minimize_scalar(lambda log_t: _nll(labels, logits, np.exp(log_t)), bounds=(lo, hi), method="bounded")
    return float(np.exp(res.x))
