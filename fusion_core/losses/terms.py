"""Individual loss terms, each a pure function of tensors (no model calls)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def reconstruction_loss(
    recon: torch.Tensor, target: torch.Tensor, *, weight: torch.Tensor | None = None, kind: str = "l1"
) -> torch.Tensor:
    """Mean L1 or MSE between (B, C, S, S) tensors, optionally per-pixel weighted (e.g. head mask).

    Args:
        weight: (B, 1, S, S) or broadcastable non-negative weights; the loss is their weighted mean.
        kind: "l1" or "mse".
    """
    if kind not in ("l1", "mse"):
        raise ValueError(f"kind must be 'l1' or 'mse', got {kind!r}")
    err = (recon - target).abs() if kind == "l1" else (recon - target) ** 2
    if weight is None:
        return err.mean()
    weight = weight.expand_as(err)
    return (err * weight).sum() / weight.sum().clamp_min(1e-8)


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)), summed over latent dims, averaged over the batch."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1).mean()


def info_nce(a: torch.Tensor, b: torch.Tensor, *, temperature: float = 0.1) -> torch.Tensor:
    """Symmetric InfoNCE (CLIP-style) aligning row i of ``a`` with row i of ``b``, each (B, D)."""
    a = F.normalize(a, dim=1)
    b = F.normalize(b, dim=1)
    logits = a @ b.T / temperature
    target = torch.arange(a.shape[0], device=a.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


def adversarial_loss(logits: torch.Tensor, *, real: bool) -> torch.Tensor:
    """Least-squares GAN loss (Mao et al. 2017) of critic logits against the real (1) or fake (0) target."""
    target = 1.0 if real else 0.0
    return ((logits - target) ** 2).mean()


def cycle_loss(cycled: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """L1 cycle-consistency loss ||G_BA(G_AB(a)) - a||_1."""
    return (cycled - original).abs().mean()


def identity_loss(same: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """L1 identity loss ||G_AB(b) - b||_1 (keeps a generator from changing images already in its target domain)."""
    return (same - original).abs().mean()


def heteroscedastic_bce(
    logit: torch.Tensor, log_var: torch.Tensor, target: torch.Tensor, *, samples: int = 8
) -> torch.Tensor:
    """Per-sample BCE of logits corrupted by their predicted noise (Kendall & Gal 2017), (B,).

    With ``samples`` = 0 this is plain BCE on the logit (log_var unused).
    """
    if samples <= 0:
        return F.binary_cross_entropy_with_logits(logit, target, reduction="none")
    eps = torch.randn((samples, *logit.shape), device=logit.device, dtype=logit.dtype)
    noisy = logit + torch.exp(0.5 * log_var) * eps
    # log of the mean likelihood over samples
    log_lik = -F.binary_cross_entropy_with_logits(noisy, target.expand_as(noisy), reduction="none")
    return -(torch.logsumexp(log_lik, dim=0) - torch.log(torch.tensor(float(samples))))
