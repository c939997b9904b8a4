"""Product of Gaussian experts with a standard-normal prior expert; missing modalities are masked."""

from __future__ import annotations

import torch


def product_of_experts(mu: torch.Tensor, logvar: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Fuse diagonal Gaussian experts into one, always including the prior N(0, I).

    A missing expert has mask 0: its precision is zeroed, so it contributes nothing (its mu and
    logvar must only be finite). With every expert masked the result is the prior.

    Args:
        mu: (B, M, D) expert means.
        logvar: (B, M, D) expert log-variances.
        mask: (B, M) 1 where the modality is present, 0 where missing.

    Returns:
        (mu, logvar) of the product, each (B, D).
    """
    precision = torch.exp(-logvar) * mask.to(mu.dtype).unsqueeze(-1)
    total_precision = 1.0 + precision.sum(dim=1)  # the prior expert has mean 0 and precision 1
    joint_mu = (mu * precision).sum(dim=1) / total_precision
    return joint_mu, -torch.log(total_precision)


def reparameterise(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Sample z = mu + sigma * eps, eps ~ N(0, I)."""
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)


def drop_modalities(mask: torch.Tensor, p: float) -> torch.Tensor:
    """Randomly hide present modalities with probability ``p`` each, keeping at least one per row.

    Args:
        mask: (B, M) presence mask (0/1).
        p: drop probability per modality.

    Returns:
        (B, M) new mask, a subset of ``mask``; rows that had no modality stay empty.
    """
    keep = (torch.rand_like(mask, dtype=torch.float32) >= p).to(mask.dtype) * mask
    empty = keep.sum(dim=1) == 0
    if empty.any():
        # restore one random present modality in rows that lost all of them
        scores = torch.rand_like(mask, dtype=torch.float32) * mask
        choice = torch.nn.functional.one_hot(scores.argmax(dim=1), mask.shape[1]).to(mask.dtype) * mask
        keep = torch.where(empty.unsqueeze(1), choice, keep)
    return keep
