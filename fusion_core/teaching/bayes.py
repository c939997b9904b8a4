"""Demo 2, Bayesian fusion of evidence: posterior odds = prior odds x LR_1 x LR_2.

With conditionally independent modalities each likelihood ratio multiplies the odds: from a 50 %
prior (odds 1:1), LR 2 gives 2:1 (67 %) and then LR 5 gives 10:1 (91 %).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fusion_core.errors import FusionError


def probability_to_odds(p: float) -> float:
    """Return p / (1 - p) for p in (0, 1).

    Raises:
        FusionError: p outside (0, 1).
    """
    if not 0.0 < p < 1.0:
        raise FusionError(f"a probability for odds must lie strictly between 0 and 1, got {p}")
    return p / (1.0 - p)


def odds_to_probability(odds: float) -> float:
    """Return odds / (1 + odds) for odds >= 0."""
    return odds / (1.0 + odds)


@dataclass(frozen=True)
class BayesFusion:
    """Odds and probabilities after each piece of evidence, prior first.

    Attributes:
        likelihood_ratios: the ratios applied, in order.
        odds: (k + 1,) prior odds, then the odds after each ratio.
        probabilities: (k + 1,) the same as probabilities.
    """

    likelihood_ratios: tuple[float, ...]
    odds: np.ndarray
    probabilities: np.ndarray

    @property
    def posterior(self) -> float:
        """Probability after the last piece of evidence."""
        return float(self.probabilities[-1])

    @property
    def posterior_odds(self) -> float:
        """Odds after the last piece of evidence."""
        return float(self.odds[-1])


def fuse_evidence(prior: float, likelihood_ratios: Sequence[float]) -> BayesFusion:
    """Multiply prior odds by each modality's likelihood ratio.

    Args:
        prior: prior probability in (0, 1).
        likelihood_ratios: P(evidence | disease) / P(evidence | no disease) per modality, each > 0.

    Returns:
        The odds and probability after each step.

    Raises:
        FusionError: a prior outside (0, 1) or a ratio <= 0.
    """
    ratios = tuple(float(r) for r in likelihood_ratios)
    if any(r <= 0 for r in ratios):
        raise FusionError(f"likelihood ratios must be positive, got {ratios}")
    odds = probability_to_odds(prior) * np.cumprod((1.0, *ratios))
    return BayesFusion(likelihood_ratios=ratios, odds=odds, probabilities=odds / (1.0 + odds))
