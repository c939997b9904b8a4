"""The ideal-observer bound for fusing two conditionally independent sources of evidence.

If, given the truth, each modality's evidence is Gaussian with equal variance in both classes and
the two are independent, modality i separates the classes by d'_i = sqrt(2) * Phi^-1(AUC_i). The
ideal observer adds the standardised evidences, so d'^2 = d'_a^2 + d'_b^2 and the fused
AUC = Phi(d' / sqrt(2)). A strategy can beat this bound only where its assumptions fail (for
example, lesion types that only one modality shows make the evidence a non-Gaussian mixture).

AUCs are clipped to [0.5, 1 - 1e-9] first: an AUC below 0.5 is a classifier no better than chance
(its evidence is read as worthless, d' = 0, rather than flipped), and an AUC of exactly 1 would give
an infinite d'.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

AUC_CEILING = 1.0 - 1e-9


def dprime(auc: float | np.ndarray) -> float | np.ndarray:
    """Detectability d' = sqrt(2) * Phi^-1(AUC) of an equal-variance binormal ROC (AUC clipped, see module)."""
    d = np.sqrt(2.0) * norm.ppf(np.clip(auc, 0.5, AUC_CEILING))
    return float(d) if np.ndim(d) == 0 else d


def fused_dprime(auc_a: float, auc_b: float) -> float:
    """Return d' of the ideal observer of two independent sources: sqrt(d'_a^2 + d'_b^2)."""
    return float(np.hypot(dprime(auc_a), dprime(auc_b)))


def independence_bound(auc_a: float, auc_b: float) -> float:
    """Fused AUC of the ideal observer of two conditionally independent Gaussian sources.

    Args:
        auc_a: (with ``auc_b``) the two unimodal AUCs (clipped to [0.5, 1 - 1e-9]).
        auc_b: see ``auc_a``.

    Returns:
        Phi(d' / sqrt(2)) with d'^2 = d'_a^2 + d'_b^2; 0.5 and 0.5 give 0.5.
    """
    return float(norm.cdf(fused_dprime(auc_a, auc_b) / np.sqrt(2.0)))


def independence_bound_roc(auc_a: float, auc_b: float, fpr: np.ndarray) -> np.ndarray:
    """True positive rates of the bound's binormal ROC curve: TPR = Phi(d' + Phi^-1(FPR)).

    Args:
        auc_a: (with ``auc_b``) the two unimodal AUCs.
        auc_b: see ``auc_a``.
        fpr: (n,) false positive rates in [0, 1].

    Returns:
        (n,) true positive rates (0 at FPR 0, 1 at FPR 1).
    """
    return norm.cdf(fused_dprime(auc_a, auc_b) + norm.ppf(np.clip(np.asarray(fpr, dtype=float), 0.0, 1.0)))
