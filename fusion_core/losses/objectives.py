"""Full objectives per model, built from the terms; every term has a weight (0 switches it off)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import torch

from fusion_core.losses.terms import (
    adversarial_loss,
    cycle_loss,
    heteroscedastic_bce,
    identity_loss,
    info_nce,
    kl_divergence,
    lesion_map_bce,
    reconstruction_loss,
    structure_loss,
)


@dataclasses.dataclass(frozen=True)
class VAELossWeights:
    """Weights of the VAE objective (0 switches a term off, for ablations).

    Attributes:
        reconstruction: joint-posterior reconstruction of every modality.
        cross: reconstruction of every modality from each single-modality posterior (MVAE sub-sampling).
        kl: KL of each posterior to the prior (beta).
        contrastive: InfoNCE between the CT and MR expert means.
        adversarial: LSGAN generator loss from a PatchGAN critic on decoded CT.
        head_weight: extra reconstruction weight inside the head mask (background weight is 1).
        bone_weight: factor on the reconstruction weight where the true CT is bone (> 300 HU): the
            skull is a thin structure whose errors are large in HU (1 = off).
    """

    reconstruction: float = 1.0
    cross: float = 1.0
    kl: float = 1e-3
    contrastive: float = 0.05
    adversarial: float = 0.0
    head_weight: float = 4.0
    bone_weight: float = 1.0


@dataclasses.dataclass(frozen=True)
class ClassifierLossWeights:
    """Weights of the classifier objective.

    Attributes:
        bce: per-branch (heteroscedastic) binary cross-entropy.
        kl: KL of the PoE posterior (poe strategy only).
        contrastive: InfoNCE between modality embeddings (unused when a strategy has one).
        aleatoric_samples: noise samples of the heteroscedastic BCE (0 = plain BCE).
        pos_weight: weight of positive samples in the BCE (lesion slices are rare, ~8%).
        corrupted_var: weight of a term that teaches each unimodal branch's aleatoric head to
            report a high log-variance (``corrupted_log_var``) when its input was replaced by noise
            in training (with rare positives the BCE alone rewards confident "negative" on noise).
        corrupted_log_var: the log-variance a branch should report for a corrupted input.
        lesion: localisation term: BCE of each encoder's lesion map against the lesion mask
            (models with ``lesion_maps`` only).
        lesion_pos_weight: weight of lesion cells in that BCE.
    """

    bce: float = 1.0
    kl: float = 1e-3
    aleatoric_samples: int = 8
    pos_weight: float = 1.0
    corrupted_var: float = 0.0
    corrupted_log_var: float = 4.0
    lesion: float = 0.0
    lesion_pos_weight: float = 10.0


@dataclasses.dataclass(frozen=True)
class CycleLossWeights:
    """Weights of the CycleGAN generator objective (Zhu et al. 2017 use 1 / 10 / 5).

    ``structure`` keeps each translation's edges where its input's are (``structure_loss``): with
    unpaired data and a few minutes of CPU training, the adversarial and cycle terms alone let the
    generators invent anatomy the cycle can undo.

    ``paired`` (0 = a true unpaired CycleGAN) adds the L1 of each translation against the real
    image of the same slice, inside the head, for rows that have both modalities: the same network
    trained on paired data, to measure what pairing buys.
    """

    adversarial: float = 1.0
    cycle: float = 10.0
    identity: float = 0.0
    structure: float = 0.0
    paired: float = 0.0


def weighted_total(terms: Mapping[str, torch.Tensor], weights: Mapping[str, float]) -> torch.Tensor:
    """Sum of weight * term over terms with non-zero weight."""
    total = None
    for name, value in terms.items():
        w = weights.get(name, 0.0)
        if w:
            total = w * value if total is None else total + w * value
    if total is None:
        raise ValueError(f"every loss weight is zero for terms {sorted(terms)}: nothing to train")
    return total


def masked_branch_bce(out, target: torch.Tensor, *, samples: int, pos_weight: float = 1.0) -> torch.Tensor:
    """Mean heteroscedastic BCE over every branch of a ClassifierOutput, counting only available branches."""
    losses = torch.stack(
        [heteroscedastic_bce(b.logit, b.log_var, target, samples=samples) for b in out.branches.values()], 1
    )
    m = out.branch_mask.to(losses) * (1.0 + (pos_weight - 1.0) * target.unsqueeze(1))
    return (losses * m).sum() / m.sum().clamp_min(1.0)


def corrupted_variance_term(
    out, corrupted: torch.Tensor, modalities: tuple[str, ...], target_log_var: float
) -> torch.Tensor:
    """Mean squared gap between the unimodal branches' log-variance and ``target_log_var`` on corrupted rows.

    Args:
        out: the classifier's output, with per-modality ``branches`` (each with ``log_var``).
        corrupted: (B, M) 1 where that modality's input was replaced by noise.
        modalities: the M modality names, in the column order of ``corrupted``.
        target_log_var: the log-variance a corrupted branch should report.
    """
    gaps = [
        ((out.branches[m].log_var - target_log_var) ** 2 * corrupted[:, i]).sum()
        for i, m in enumerate(modalities)
        if m in out.branches
    ]
    return sum(gaps) / corrupted.sum().clamp_min(1.0) if gaps else out.logit.sum() * 0


def classifier_terms(
    out,
    target: torch.Tensor,
    weights: ClassifierLossWeights,
    *,
    corrupted: torch.Tensor | None = None,
    modalities=("CT", "MR"),
    lesion: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    """Loss terms of a fusion classifier from its ClassifierOutput and (B,) 0/1 targets.

    ``lesion`` (B, 1, S, S) is the lesion mask for the "lesion" term of models with lesion maps.
    """
    terms = {
        "bce": masked_branch_bce(out, target.float(), samples=weights.aleatoric_samples, pos_weight=weights.pos_weight)
    }
    if out.mu is not None:
        terms["kl"] = kl_divergence(out.mu, out.logvar)
    if weights.corrupted_var and corrupted is not None:
        terms["corrupted_var"] = corrupted_variance_term(out, corrupted, modalities, weights.corrupted_log_var)
    if weights.lesion and out.lesion_maps and lesion is not None:
        terms["lesion"] = lesion_map_term(out, lesion, modalities, weights.lesion_pos_weight)
    return terms


def lesion_map_term(out, lesion: torch.Tensor, modalities: tuple[str, ...], pos_weight: float) -> torch.Tensor:
    """Mean lesion-map BCE over the encoders, each on the samples that had its modality."""
    present = {m: out.mask[:, i].float() for i, m in enumerate(modalities)}
    losses = [
        lesion_map_bce(logits, lesion, present.get(k, out.mask.new_ones(out.mask.shape[0])), pos_weight=pos_weight)
        for k, logits in out.lesion_maps.items()
    ]
    return torch.stack(losses).mean()


def generator_cycle_terms(
    out, ct: torch.Tensor, mr: torch.Tensor, model, weights: CycleLossWeights
) -> dict[str, torch.Tensor]:
    """CycleGAN generator terms from a CycleOutput: adversarial (fool both critics), cycle, identity."""
    terms = {
        "adversarial": adversarial_loss(model.disc_mr(out.fake_mr), real=True)
        + adversarial_loss(model.disc_ct(out.fake_ct), real=True),
        "cycle": cycle_loss(out.cycle_ct, ct) + cycle_loss(out.cycle_mr, mr),
    }
    if weights.identity:
        terms["identity"] = identity_loss(model.mr_to_ct(ct), ct) + identity_loss(model.ct_to_mr(mr), mr)
    if weights.structure:
        terms["structure"] = structure_loss(out.fake_ct, mr) + structure_loss(out.fake_mr, ct)
    return terms


def paired_translation_loss(
    out, batch: Mapping[str, torch.Tensor], has: torch.Tensor, *, head_weight: float = 4.0
) -> torch.Tensor | None:
    """Head-weighted L1 of each translation against the real image of the same row (rows with both modalities).

    Args:
        out: CycleOutput of ``model(batch["CT"][has[:, 0]], batch["MR"][has[:, 1]])``.
        batch: the whole batch ("CT", "MR", "head" (B, 1, S, S)).
        has: (B, 2) bool presence of CT and MR per row.
        head_weight: weight of pixels inside the head (outside: 1).

    Returns:
        The loss, or None when no row has both modalities.
    """
    both = has[:, 0] & has[:, 1]
    if not both.any():
        return None
    weight = 1.0 + batch["head"][both] * (head_weight - 1.0)
    fake_ct = out.fake_ct[both[has[:, 1]]]  # fake_ct was made from the rows that have MR
    fake_mr = out.fake_mr[both[has[:, 0]]]
    return reconstruction_loss(fake_ct, batch["CT"][both], weight=weight) + reconstruction_loss(
        fake_mr, batch["MR"][both], weight=weight
    )


def discriminator_loss(disc, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """LSGAN critic loss on a real and a (detached) fake batch."""
    return 0.5 * (adversarial_loss(disc(real), real=True) + adversarial_loss(disc(fake.detach()), real=False))


__all__ = [
    "ClassifierLossWeights",
    "CycleLossWeights",
    "VAELossWeights",
    "classifier_terms",
    "discriminator_loss",
    "generator_cycle_terms",
    "paired_translation_loss",
    "vae_terms",
    "weighted_total",
]


def vae_terms(
    out,
    targets: Mapping[str, torch.Tensor],
    *,
    weights: VAELossWeights,
    pixel_weight: torch.Tensor | None = None,
    critic=None,
) -> dict[str, torch.Tensor]:
    """Loss terms of the multimodal VAE from one VAEOutput.

    Rows whose posterior used every modality give the "reconstruction" term; rows encoded from a
    subset (modality dropout, or explicitly masked rows) give the "cross" term: every modality,
    including the hidden one, is decoded and compared with the truth (cross-modal generation).

    Args:
        out: VAEOutput for a batch of size B (``out.mask`` says which experts each row used).
        targets: modality -> (B, C, S, S) ground truth for every row.
        weights: VAELossWeights (0 switches a term off and skips its computation).
        pixel_weight: (B, 1, S, S) reconstruction weights (e.g. 1 + head mask * (head_weight - 1)).
        critic: PatchDiscriminator on decoded CT, needed when ``weights.adversarial`` > 0.
    """
    full = out.mask.sum(1) == out.mask.shape[1]
    terms: dict[str, torch.Tensor] = {}
    for name, rows in (("reconstruction", full), ("cross", ~full)):
        if getattr(weights, name) and rows.any():
            pw = None if pixel_weight is None else pixel_weight[rows]
            terms[name] = sum(reconstruction_loss(out.recon[m][rows], t[rows], weight=pw) for m, t in targets.items())
    if weights.kl:
        terms["kl"] = kl_divergence(out.mu, out.logvar)
    if weights.contrastive and out.expert_mu.shape[1] >= 2 and full.sum() > 1:
        # the experts are computed for every given modality, dropped or not, so all rows align
        terms["contrastive"] = info_nce(out.expert_mu[:, 0], out.expert_mu[:, 1])
    if weights.adversarial and critic is not None and "CT" in out.recon:
        terms["adversarial"] = adversarial_loss(critic(out.recon["CT"]), real=True)
    return terms
