"""Demo 7, missing modality: a product of one-dimensional Gaussian experts with a prior expert.

The product of Gaussians N(mu_i, 1/tau_i) is Gaussian with precision tau = sum tau_i and mean
sum(tau_i mu_i) / tau: the fused belief follows the most confident expert. A missing expert is left
out; with no expert present the prior N(0, 1) remains (the same rule as
:func:`fusion_core.models.poe.product_of_experts`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fusion_core.errors import FusionError

PRIOR_PRECISION = 1.0  # the prior expert N(0, 1), as in the shipped PoE VAE


@dataclass(frozen=True)
class GaussianExpert:
    """One expert's belief N(mean, 1 / precision); ``present=False`` leaves it out of the product."""

    name: str
    mean: float
    precision: float
    present: bool = True

    @property
    def variance(self) -> float:
        """Variance of the belief, 1 / precision."""
        return 1.0 / self.precision


def product_of_gaussians(experts: Sequence[GaussianExpert], *, prior: bool = True) -> GaussianExpert:
    """The product of the present experts (and the prior expert N(0, 1) when ``prior``).

    Args:
        experts: the experts; each precision > 0.
        prior: include the prior expert.

    Returns:
        The fused expert, named "fused".

    Raises:
        FusionError: a precision <= 0, or nothing to multiply (no prior and no expert present).
    """
    if any(e.precision <= 0 for e in experts):
        raise FusionError("every expert's precision must be positive")
    present = [e for e in experts if e.present]
    if prior:
        present.append(GaussianExpert("prior", 0.0, PRIOR_PRECISION))
    if not present:
        raise FusionError("a product of experts needs at least one expert or the prior")
    precision = sum(e.precision for e in present)
    mean = sum(e.precision * e.mean for e in present) / precision
    return GaussianExpert("fused", float(mean), float(precision))


def gaussian_density(expert: GaussianExpert, x: np.ndarray) -> np.ndarray:
    """(n,) density of N(expert.mean, expert.variance) at ``x``."""
    x = np.asarray(x, dtype=float)
    return np.sqrt(expert.precision / (2.0 * np.pi)) * np.exp(-0.5 * expert.precision * (x - expert.mean) ** 2)
