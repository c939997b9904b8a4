"""Individual loss terms, each a pure function of tensors (no model calls)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def reconstruction_loss(
    recon: torch.Tensor, target: torch.Tensor, *, weight: torch.Tensor | None = None, kind: str = "l1"
) -> torch.Tensor:
    """Mean L1 or MSE between (B, C, S, S) tensors, optionally per-pixel weighted (e.g. head mask).

    Args:
        recon: (B, C, S, S) reconstruction.
        target: (B, C, S, S) target.
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


def _gradients(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward differences of (B, C, H, W), cropped to a common (H-1, W-1)."""
    gx = x[..., :-1, 1:] - x[..., :-1, :-1]
    gy = x[..., 1:, :-1] - x[..., :-1, :-1]
    return gx, gy


def structure_loss(a: torch.Tensor, b: torch.Tensor, *, eps: float = 0.02) -> torch.Tensor:
    """1 - squared cosine between the edge directions of ``a`` and ``b``, averaged over edge pixels.

    Normalised gradient fields (Haber & Modersitzki 2006), averaged over the pixels where either image
    has an edge.

    Squaring makes it blind to contrast inversion (bone is bright on CT and dark on MR), so it
    asks a CT<->MR translator to keep the edges of its input where they are, and to invent none,
    without asking for any particular intensity. ``eps`` (image units per pixel) is the edge
    strength below which a gradient counts as flat.
    """
    ax, ay = _gradients(a)
    bx, by = _gradients(b)
    na, nb = ax * ax + ay * ay + eps**2, bx * bx + by * by + eps**2
    cos2 = (ax * bx + ay * by) ** 2 / (na * nb)
    edges = (1.0 - eps**2 / na) + (1.0 - eps**2 / nb)  # soft edge indicator of either image
    return 1.0 - (cos2 * edges).sum() / edges.sum().clamp_min(1e-6)


def lesion_map_bce(
    logits: torch.Tensor, lesion: torch.Tensor, rows: torch.Tensor, *, pos_weight: float = 1.0
) -> torch.Tensor:
    """BCE of a coarse lesion map against the lesion mask, averaged over the ``rows`` that count.

    Args:
        logits: (B, 1, s, s) lesion logits on a feature grid.
        lesion: (B, 1, S, S) 0/1 lesion mask; its area fraction per grid cell is the (soft) target.
        rows: (B,) 1 for samples whose input had the modality (others are not supervised).
        pos_weight: weight of lesion cells (they are rare: a few cells of a few slices).
    """
    target = F.adaptive_avg_pool2d(lesion, logits.shape[-2:])
    weight = torch.tensor(pos_weight, device=logits.device, dtype=logits.dtype)
    per_cell = F.binary_cross_entropy_with_logits(logits, target, pos_weight=weight, reduction="none")
    per_row = per_cell.flatten(1).mean(1)
    return (per_row * rows).sum() / rows.sum().clamp_min(1.0)


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
