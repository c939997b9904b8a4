"""Lesion-presence classifiers, one per fusion strategy, all with the same encoders and heads.

Every classifier takes ``inputs`` (modality -> (B, C, S, S), any subset) and an optional (B, M)
presence ``mask``. Strategies that need both images (early / intermediate / hybrid fused branch)
see a missing modality as a zero image; PoE, late and uncertainty-late fuse only what is present.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import torch
from torch import nn

from fusion_core.models.attention import CrossModalAttention, to_tokens
from fusion_core.models.blocks import ConvEncoder, PooledEmbedding
from fusion_core.models.config import ClassifierConfig, Strategy, parse_choice
from fusion_core.models.heads import HeadOutput, UncertainHead
from fusion_core.models.inputs import presence_mask
from fusion_core.models.poe import drop_modalities, product_of_experts, reparameterise

FUSED = "fused"


class ClassifierOutput(NamedTuple):
    """Output of every fusion classifier.

    Attributes:
        logit: (B,) final logit of lesion presence.
        variance: (B,) total variance of the final logit (aleatoric + epistemic of the branches used).
        branches: branch name ("CT", "MR" or "fused") -> HeadOutput; losses train each branch. In
            training, a PoE model with ``subset_loss`` adds "poe|CT" and "poe|MR" (its head on each
            single-modality posterior).
        branch_mask: (B, n_branches) 1 where the branch had its input, in ``branches`` order.
        mask: (B, M) modality presence mask after modality dropout.
        attention: "CT->MR"/"MR->CT" -> (B, Nq, Nk) weights, for the attention strategy, else {}.
        mu, logvar: (B, D) PoE posterior for the "poe" strategy (for its KL term), else None.
        lesion_maps: encoder name ("CT", "MR" or "early") -> (B, 1, s, s) lesion logits on the
            encoder's feature grid, when the model has ``config.lesion_maps``, else {}.
    """

    logit: torch.Tensor
    variance: torch.Tensor
    branches: dict[str, HeadOutput]
    branch_mask: torch.Tensor
    mask: torch.Tensor
    attention: dict[str, torch.Tensor]
    mu: torch.Tensor | None = None
    logvar: torch.Tensor | None = None
    lesion_maps: dict[str, torch.Tensor] | None = None


def branch_names(strategy: Strategy) -> tuple[str, ...]:
    """Which heads a strategy has."""
    if strategy in (Strategy.CT, Strategy.MR):
        return (strategy.value.upper(),)
    if strategy in (Strategy.LATE, Strategy.UNCERTAINTY_LATE):
        return ("CT", "MR")
    if strategy == Strategy.HYBRID:
        return (FUSED, "CT", "MR")
    return (FUSED,)


def mean_probability(branches: dict[str, HeadOutput], branch_mask: torch.Tensor) -> torch.Tensor:
    """Late fusion: logit of the mean probability over available branches, (B,)."""
    probs = torch.stack([torch.sigmoid(b.logit) for b in branches.values()], dim=1)
    p = (probs * branch_mask).sum(1) / branch_mask.sum(1).clamp_min(1.0)
    return torch.logit(p.clamp(1e-6, 1 - 1e-6))


def precision_weights(branches: dict[str, HeadOutput], branch_mask: torch.Tensor) -> torch.Tensor:
    """(B, n_branches) weights proportional to 1 / (aleatoric + epistemic variance), 0 where missing."""
    var = torch.stack([torch.exp(b.log_var) + b.epistemic for b in branches.values()], dim=1)
    precision = branch_mask / var.clamp_min(1e-6)
    return precision / precision.sum(1, keepdim=True).clamp_min(1e-12)


def branch_variance(branches: dict[str, HeadOutput], weights: torch.Tensor) -> torch.Tensor:
    """Variance of a weighted combination of branch logits (branches assumed independent), (B,)."""
    var = torch.stack([torch.exp(b.log_var) + b.epistemic for b in branches.values()], dim=1)
    return (weights**2 * var).sum(1)


class FusionClassifier(nn.Module):
    """Slice-level lesion classifier; ``config.strategy`` picks the fusion (see Strategy)."""

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        self.config = config
        self.strategy = parse_choice(Strategy, config.strategy)
        enc, d = config.encoder, config.embed_dim
        self.branch_names = branch_names(self.strategy)
        self.encoders = nn.ModuleDict(self._make_encoders())
        c = next(iter(self.encoders.values())).out_channels
        self.embed = nn.ModuleDict({k: PooledEmbedding(c, d) for k in self.encoders})
        if config.lesion_maps:
            self.lesion_heads = nn.ModuleDict({k: nn.Conv2d(c, 1, 1) for k in self.encoders})
        self.heads = nn.ModuleDict({b: UncertainHead(self._head_dim(b, d), config.dropout) for b in self.branch_names})
        if self.strategy == Strategy.INTERMEDIATE_TENSOR:
            self.factors = nn.ModuleDict({m: nn.Linear(d + 1, config.rank * d) for m in config.modalities})
        if self.strategy == Strategy.INTERMEDIATE_ATTENTION:
            n_tokens = enc.feature_size**2
            self.position = nn.Parameter(torch.zeros(1, n_tokens, c))
            self.cross = nn.ModuleDict({m: CrossModalAttention(c, config.heads) for m in config.modalities})
        if self.strategy == Strategy.POE:
            self.experts = nn.ModuleDict({m: nn.Linear(d, 2 * d) for m in config.modalities})

    @property
    def modalities(self) -> tuple[str, ...]:
        """The input modalities, from the config."""
        return self.config.modalities

    def input_channels(self, modality: str) -> int:
        """Channels of one modality's input: ``encoder.in_channels``, times the MR weightings for MR."""
        per = self.config.encoder.in_channels
        return per * len(self.config.mr_weightings) if modality == "MR" else per

    def _make_encoders(self) -> dict[str, ConvEncoder]:
        enc = self.config.encoder
        if self.strategy in (Strategy.CT, Strategy.MR):
            name = self.strategy.value.upper()
            return {name: ConvEncoder(enc, in_channels=self.input_channels(name))}
        if self.strategy == Strategy.EARLY:
            total = sum(self.input_channels(m) for m in self.config.modalities)
            return {"early": ConvEncoder(enc, in_channels=total)}
        return {m: ConvEncoder(enc, in_channels=self.input_channels(m)) for m in self.config.modalities}

    def _head_dim(self, branch: str, d: int) -> int:
        concat = (Strategy.INTERMEDIATE_CONCAT, Strategy.INTERMEDIATE_ATTENTION, Strategy.HYBRID)
        return d * len(self.config.modalities) if branch == FUSED and self.strategy in concat else d

    def _images(self, inputs: Mapping[str, torch.Tensor], mask: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every modality as (B, C, S, S), zeroed where missing."""
        ref = next(iter(inputs.values()), None)
        size = self.config.encoder.image_size
        out = {}
        for i, m in enumerate(self.modalities):
            shape = (mask.shape[0], self.input_channels(m), size, size)
            x = inputs[m] if m in inputs else (ref.new_zeros(shape) if ref is not None else mask.new_zeros(shape))
            out[m] = x * mask[:, i].view(-1, 1, 1, 1).to(x)
        return out

    def _features(self, images: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Encoder name (modality, or "early") -> feature map (B, C, s, s)."""
        if self.strategy == Strategy.EARLY:
            return {"early": self.encoders["early"](torch.cat([images[m] for m in self.modalities], dim=1))}
        return {k: self.encoders[k](images[k]) for k in self.encoders}

    def _embed(self, feats: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """Encoder name -> embedding (B, d), plus attention weights for that strategy."""
        if self.strategy != Strategy.INTERMEDIATE_ATTENTION:
            return {k: self.embed[k](f) for k, f in feats.items()}, {}
        return self._attend(feats)

    def _attend(self, feats: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        a, b = self.modalities
        shape = feats[a].shape
        tokens = {m: to_tokens(feats[m]) + self.position for m in (a, b)}
        out_a, w_ab = self.cross[a](tokens[a], tokens[b])
        out_b, w_ba = self.cross[b](tokens[b], tokens[a])
        emb = {m: self.embed[m](out.transpose(1, 2).reshape(shape)) for m, out in ((a, out_a), (b, out_b))}
        return emb, {f"{a}->{b}": w_ab, f"{b}->{a}": w_ba}

    def _fuse_tensor(self, emb: dict[str, torch.Tensor]) -> torch.Tensor:
        """Low-rank multimodal (bilinear) fusion (Liu et al. 2018): sum over rank of the product of factors."""
        d, r = self.config.embed_dim, self.config.rank
        prod = None
        for m in self.modalities:
            x = torch.cat([emb[m], torch.ones_like(emb[m][:, :1])], dim=1)
            f = self.factors[m](x).view(-1, r, d)
            prod = f if prod is None else prod * f
        return prod.sum(1)

    def _branch_inputs(self, emb, mask, experts=None) -> tuple[dict[str, torch.Tensor], torch.Tensor, tuple]:
        """Branch name -> head input, the (B, n_branches) availability mask, and (mu, logvar) for PoE.

        The PoE's modality ``experts`` come from ``_experts``.
        """
        ones = mask.new_ones(mask.shape[0], 1)
        col = {m: mask[:, i : i + 1] for i, m in enumerate(self.modalities)}
        s = self.strategy
        if s in (Strategy.CT, Strategy.MR, Strategy.LATE, Strategy.UNCERTAINTY_LATE):
            return (
                {b: emb[b] for b in self.branch_names},
                torch.cat([col[b] for b in self.branch_names], 1),
                (None, None),
            )
        if s == Strategy.EARLY:
            return {FUSED: emb["early"]}, ones, (None, None)
        if s == Strategy.INTERMEDIATE_TENSOR:
            return {FUSED: self._fuse_tensor(emb)}, ones, (None, None)
        if s == Strategy.POE:
            return self._poe_branch(experts, mask)
        concat = torch.cat([emb[m] for m in self.modalities], dim=1)
        if s == Strategy.HYBRID:
            bm = torch.cat([ones, col["CT"], col["MR"]], 1)
            return {FUSED: concat, "CT": emb["CT"], "MR": emb["MR"]}, bm, (None, None)
        return {FUSED: concat}, ones, (None, None)

    def _experts(self, emb) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, M, D) means and log-variances of the modality experts."""
        stats = [self.experts[m](emb[m]).chunk(2, dim=1) for m in self.modalities]
        return torch.stack([s[0] for s in stats], 1), torch.stack([s[1].clamp(-8, 8) for s in stats], 1)

    def _poe_branch(self, experts, mask):
        mu, logvar = product_of_experts(*experts, mask)
        z = reparameterise(mu, logvar) if self.training else mu
        return {FUSED: z}, mask.new_ones(mask.shape[0], 1), (mu, logvar)

    def _poe_subset_branches(self, experts, mask, mc_samples: int) -> tuple[dict[str, HeadOutput], torch.Tensor]:
        """The PoE head applied to each single-modality posterior (training only, ``subset_loss``).

        MVAE-style sub-sampling (Wu & Goodman 2018): besides the joint posterior, every step also
        trains the classification head on each modality's own posterior, so the model is directly
        taught to work when the other modality is missing instead of only by random dropout.
        Branch ``"poe|CT"`` is counted only for rows that had CT, and likewise for MR.
        """
        mu_e, logvar_e = experts
        out, cols = {}, []
        for i, m in enumerate(self.modalities):
            only = torch.zeros_like(mask)
            only[:, i] = mask[:, i]
            z = reparameterise(*product_of_experts(mu_e, logvar_e, only))
            out[f"poe|{m}"] = self.heads[FUSED](z, mc_samples)
            cols.append(mask[:, i : i + 1])
        return out, torch.cat(cols, 1)

    def forward(
        self, inputs: Mapping[str, torch.Tensor], mask: torch.Tensor | None = None, *, mc_samples: int = 1
    ) -> ClassifierOutput:
        """Classify a batch of slices.

        Args:
            inputs: modality -> (B, C, S, S); any subset of the model's modalities.
            mask: optional (B, M) presence mask.
            mc_samples: >1 runs the heads that many times with dropout on (MC dropout) for the
                epistemic variance.
        """
        device = next(self.parameters()).device
        mask = presence_mask(inputs, self.modalities, mask=mask, device=device)
        if self.training and self.config.modality_dropout > 0:
            mask = drop_modalities(mask, self.config.modality_dropout)
        feats = self._features(self._images(inputs, mask))
        emb, attention = self._embed(feats)
        experts = self._experts(emb) if self.strategy == Strategy.POE else None
        head_in, branch_mask, (mu, logvar) = self._branch_inputs(emb, mask, experts)
        branches = {b: self.heads[b](head_in[b], mc_samples) for b in self.branch_names}
        logit, variance = self._combine(branches, branch_mask)
        if self.training and self.config.subset_loss and self.strategy == Strategy.POE:
            extra, extra_mask = self._poe_subset_branches(experts, mask, mc_samples)
            branches, branch_mask = {**branches, **extra}, torch.cat([branch_mask, extra_mask], 1)
        maps = {k: self.lesion_heads[k](f) for k, f in feats.items()} if self.config.lesion_maps else {}
        return ClassifierOutput(logit, variance, branches, branch_mask, mask, attention, mu, logvar, maps)

    def _combine(self, branches: dict[str, HeadOutput], branch_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if len(branches) == 1:
            (b,) = branches.values()
            return b.logit, torch.exp(b.log_var) + b.epistemic
        if self.strategy == Strategy.UNCERTAINTY_LATE:
            w = precision_weights(branches, branch_mask)
            logit = (w * torch.stack([b.logit for b in branches.values()], 1)).sum(1)
            return logit, branch_variance(branches, w)
        w = branch_mask / branch_mask.sum(1, keepdim=True).clamp_min(1.0)
        return mean_probability(branches, branch_mask), branch_variance(branches, w)
