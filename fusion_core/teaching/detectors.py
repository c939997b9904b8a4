"""Demo 1, why two views help: two noisy Gaussian detectors whose noises may be correlated.

Given the truth, detector i reports x_i ~ N(mu_i * y, 1) with d'_i = mu_i, and the two noises have
correlation rho. The ideal (linear discriminant) observer of both has

    d'^2 = (d'_1^2 + d'_2^2 - 2 rho d'_1 d'_2) / (1 - rho^2),

which is d'_1^2 + d'_2^2 for independent noise (rho = 0) and max(d'_1, d'_2)^2 for two copies of
the same detector (d'_1 = d'_2, rho -> 1): correlated views add little. AUC = Phi(d' / sqrt(2)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from fusion_core.errors import FusionError
from fusion_core.evaluation import auc_score, roc_curve_points

MAX_RHO = 0.99  # at |rho| = 1 the covariance is singular; the slider stops short of it


def binormal_auc(dprime: float) -> float:
    """AUC of an equal-variance binormal detector: Phi(d' / sqrt(2))."""
    return float(norm.cdf(dprime / np.sqrt(2.0)))


def binormal_roc(dprime: float, fpr: np.ndarray) -> np.ndarray:
    """True positive rates TPR = Phi(d' + Phi^-1(FPR)) of an equal-variance binormal detector.

    Args:
        dprime: detectability (>= 0).
        fpr: (n,) false positive rates in [0, 1].

    Returns:
        (n,) true positive rates.
    """
    return norm.cdf(dprime + norm.ppf(np.clip(np.asarray(fpr, dtype=float), 0.0, 1.0)))


def _check_rho(rho: float) -> float:
    if not -MAX_RHO <= rho <= MAX_RHO:
        raise FusionError(f"noise correlation must lie in [-{MAX_RHO}, {MAX_RHO}], got {rho}")
    return float(rho)


def fused_dprime_correlated(d1: float, d2: float, rho: float) -> float:
    """Return d' of the ideal observer of two equal-variance Gaussian detectors with noise correlation ``rho``.

    Args:
        d1: (with ``d2``) the two detectors' d' (>= 0).
        d2: see ``d1``.
        rho: correlation of their noises given the truth, in [-0.99, 0.99].

    Returns:
        sqrt((d1^2 + d2^2 - 2 rho d1 d2) / (1 - rho^2)).

    Raises:
        FusionError: ``rho`` outside [-0.99, 0.99].
    """
    rho = _check_rho(rho)
    return float(np.sqrt((d1**2 + d2**2 - 2.0 * rho * d1 * d2) / (1.0 - rho**2)))


def optimal_weights(d1: float, d2: float, rho: float) -> np.ndarray:
    """(2,) weights of the ideal linear observer, Sigma^-1 (d1, d2), scaled to sum of |w| = 1."""
    rho = _check_rho(rho)
    w = np.linalg.solve(np.array([[1.0, rho], [rho, 1.0]]), np.array([d1, d2], dtype=float))
    total = np.abs(w).sum()
    return w / total if total > 0 else np.array([0.5, 0.5])


@dataclass(frozen=True)
class DetectorFusion:
    """Closed-form answer of demo 1.

    Attributes:
        d1, d2, rho: the inputs.
        fused_dprime: the ideal observer's d' (see module).
        independent_dprime: sqrt(d1^2 + d2^2), what fusion would give with independent noise.
        auc1, auc2, fused_auc, independent_auc: the matching AUCs, Phi(d' / sqrt(2)).
        gain: fused_auc - max(auc1, auc2), what fusing adds over the better detector alone.
    """

    d1: float
    d2: float
    rho: float
    fused_dprime: float
    independent_dprime: float
    auc1: float
    auc2: float
    fused_auc: float
    independent_auc: float

    @property
    def gain(self) -> float:
        """Fused AUC minus the better single detector's AUC."""
        return self.fused_auc - max(self.auc1, self.auc2)


def fuse_detectors(d1: float, d2: float, rho: float) -> DetectorFusion:
    """The closed form of demo 1 for detectors ``d1``, ``d2`` and noise correlation ``rho``."""
    fused = fused_dprime_correlated(d1, d2, rho)
    independent = float(np.hypot(d1, d2))
    return DetectorFusion(
        d1=float(d1),
        d2=float(d2),
        rho=float(rho),
        fused_dprime=fused,
        independent_dprime=independent,
        auc1=binormal_auc(d1),
        auc2=binormal_auc(d2),
        fused_auc=binormal_auc(fused),
        independent_auc=binormal_auc(independent),
    )


@dataclass(frozen=True)
class SimulatedDetectors:
    """A seeded Monte-Carlo run of demo 1.

    Attributes:
        labels: (n,) 0/1 truth, half each.
        x1, x2: (n,) the two detectors' readings.
        fused: (n,) the ideal linear combination of x1 and x2.
        auc1, auc2, fused_auc: empirical AUCs.
    """

    labels: np.ndarray
    x1: np.ndarray
    x2: np.ndarray
    fused: np.ndarray
    auc1: float
    auc2: float
    fused_auc: float

    def roc(self, which: str) -> tuple[np.ndarray, np.ndarray]:
        """(fpr, tpr) of "x1", "x2" or "fused"."""
        fpr, tpr, _ = roc_curve_points(self.labels, getattr(self, which))
        return fpr, tpr


def simulate_detectors(d1: float, d2: float, rho: float, *, n: int = 4000, seed: int = 0) -> SimulatedDetectors:
    """Draw ``n`` cases (half positive) from demo 1's model and score them.

    Args:
        d1: (with ``d2``) the detectors' d'.
        d2: see ``d1``.
        rho: noise correlation in [-0.99, 0.99].
        n: number of cases (even).
        seed: random seed; the same seed gives the same cases.

    Returns:
        The readings, the ideal fused score and their empirical AUCs.
    """
    rho = _check_rho(rho)
    rng = np.random.default_rng(seed)
    labels = np.repeat([0, 1], n // 2)
    noise = rng.multivariate_normal([0.0, 0.0], [[1.0, rho], [rho, 1.0]], size=labels.size)
    x = noise + labels[:, None] * np.array([d1, d2], dtype=float)
    fused = x @ optimal_weights(d1, d2, rho)
    return SimulatedDetectors(
        labels=labels,
        x1=x[:, 0],
        x2=x[:, 1],
        fused=fused,
        auc1=auc_score(labels, x[:, 0]),
        auc2=auc_score(labels, x[:, 1]),
        fused_auc=auc_score(labels, fused),
    )
