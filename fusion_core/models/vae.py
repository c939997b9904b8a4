"""Multimodal VAE: modality-specific encoders/decoders, product-of-experts latent with a prior expert."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import torch
from torch import nn

from fusion_core.models.blocks import ConvDecoder, ConvEncoder, GaussianHead, SkipDecoder, SpatialGaussianHead
from fusion_core.models.config import VAEConfig
from fusion_core.models.inputs import presence_mask
from fusion_core.models.poe import drop_modalities, product_of_experts, reparameterise


class VAEOutput(NamedTuple):
    """Output of MultimodalVAE.forward (like MONAI VarAutoEncoder's (recon, mu, logvar, z)).

    Attributes:
        recon: modality -> (B, C, S, S) reconstruction decoded from z (every modality, given or not).
        mu, logvar: (B, D) joint posterior (D = config.code_dim; a flattened map for a spatial latent).
        z: (B, D) sample in training mode, mu in eval mode.
        expert_mu, expert_logvar: (B, M, D) per-modality experts (zeros where missing).
        mask: (B, M) which experts were used.
    """

    recon: dict[str, torch.Tensor]
    mu: torch.Tensor
    logvar: torch.Tensor
    z: torch.Tensor
    expert_mu: torch.Tensor
    expert_logvar: torch.Tensor
    mask: torch.Tensor


class MultimodalVAE(nn.Module):
    """Product-of-experts VAE over CT and MR slices (MVAE, Wu & Goodman 2018).

    With ``config.skips`` it is U-HVED-like (Dorent et al. 2019): the encoders' finer feature maps,
    averaged over the modalities present, reach the decoders by skip paths, so cross-modal
    generation keeps the given modality's fine anatomy; the PoE latent stays the shared code.

    Any subset of modalities encodes, including none (-> the prior). In training mode each given
    modality is hidden with probability ``config.modality_dropout`` (at least one kept), so the
    model learns cross-modal generation (encode MR alone, decode CT).
    """

    def __init__(self, config: VAEConfig) -> None:
        super().__init__()
        self.config = config
        enc = config.encoder
        self.encoders = nn.ModuleDict({m: ConvEncoder(enc) for m in config.modalities})
        out_ch = self.encoders[config.modalities[0]].out_channels
        lc = config.latent_channels
        self.heads = nn.ModuleDict(
            {
                m: SpatialGaussianHead(out_ch, lc) if lc else GaussianHead(out_ch, enc.feature_size, config.latent_dim)
                for m in config.modalities
            }
        )
        self.decoders = nn.ModuleDict(
            {
                m: SkipDecoder(enc, lc, out_channels=enc.in_channels)
                if config.skips
                else ConvDecoder(enc, config.latent_dim, out_channels=enc.in_channels, latent_channels=lc)
                for m in config.modalities
            }
        )

    @property
    def modalities(self) -> tuple[str, ...]:
        """The input modalities, from the config."""
        return self.config.modalities

    def code_dim(self, inputs: Mapping[str, torch.Tensor]) -> int:
        """Latent length for these inputs (a fully convolutional spatial latent follows the slice size)."""
        if not self.config.latent_channels or not inputs:
            return self.config.code_dim
        side = next(iter(inputs.values())).shape[-1] // 2**self.config.encoder.n_down
        return self.config.latent_channels * side * side

    def encode_experts(self, inputs: Mapping[str, torch.Tensor], batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-modality Gaussian experts, (B, M, D) each; zeros for modalities not given."""
        mu, logvar, _ = self._encode(inputs, batch_size)
        return mu, logvar

    def _encode(
        self, inputs: Mapping[str, torch.Tensor], batch_size: int
    ) -> tuple[torch.Tensor, torch.Tensor, dict[str, list[torch.Tensor]]]:
        """Experts (B, M, D) x 2 and, with skips, each given modality's finer feature maps (finest first)."""
        ref = next(self.parameters())
        zeros = ref.new_zeros(batch_size, self.code_dim(inputs))
        mus, logvars, stages = [], [], {}
        for m in self.modalities:
            if m not in inputs:
                mus.append(zeros)
                logvars.append(zeros)
                continue
            if self.config.skips:
                *stages[m], features = self.encoders[m].stages(inputs[m])
            else:
                features = self.encoders[m](inputs[m])
            mu, logvar = self.heads[m](features)
            mus.append(mu)
            logvars.append(logvar)
        return torch.stack(mus, dim=1), torch.stack(logvars, dim=1), stages

    def fuse_skips(self, stages: Mapping[str, list[torch.Tensor]], mask: torch.Tensor) -> list[torch.Tensor] | None:
        """Per level, the mean of the present modalities' feature maps (a row with none gets zeros).

        Args:
            stages: modality -> finest-first feature maps (modalities not given are absent).
            mask: (B, M) which modalities each row uses (hidden ones are left out of its mean).
        """
        if not stages:
            return None
        weights = {
            m: mask[:, i].to(next(iter(stages.values()))[0]) for i, m in enumerate(self.modalities) if m in stages
        }
        count = sum(weights.values()).clamp_min(1.0).view(-1, 1, 1, 1)
        levels = zip(*(stages[m] for m in weights), strict=True)
        return [
            sum(w.view(-1, 1, 1, 1) * f for w, f in zip(weights.values(), fs, strict=True)) / count for fs in levels
        ]

    def decode(self, z: torch.Tensor, skips: list[torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
        """Latent (B, D) (and, with skips, fused finest-first feature maps) -> modality -> (B, C, S, S).

        A skip model given no ``skips`` decodes from the latent alone (zero skip features).
        """
        if self.config.skips:
            return {m: self.decoders[m](z, skips) for m in self.modalities}
        return {m: self.decoders[m](z) for m in self.modalities}

    def sample(
        self,
        inputs: Mapping[str, torch.Tensor],
        goal: str,
        *,
        samples: int,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """``samples`` decodes of modality ``goal`` from latents drawn from the PoE posterior, (K, B, C, S, S).

        The posterior of the given modalities is computed once; each draw is ``mu + eps * sigma``. The
        skip features (deterministic, from the given modalities' encoders) are shared by every draw, so
        the spread is the part of the output the latent leaves uncertain.
        """
        mask = presence_mask(inputs, self.modalities, device=next(self.parameters()).device)
        expert_mu, expert_logvar, stages = self._encode(inputs, mask.shape[0])
        mu, logvar = product_of_experts(expert_mu, expert_logvar, mask)
        sigma, skips = torch.exp(0.5 * logvar), self.fuse_skips(stages, mask)
        decoder = self.decoders[goal]
        draws = []
        for _ in range(samples):
            z = mu + sigma * torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
            draws.append(decoder(z, skips) if self.config.skips else decoder(z))
        return torch.stack(draws)

    def posterior(self, inputs: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, logvar) of the PoE posterior of the given modalities, (B, D) each, without decoding."""
        mask = presence_mask(inputs, self.modalities, device=next(self.parameters()).device)
        expert_mu, expert_logvar, _ = self._encode(inputs, mask.shape[0])
        return product_of_experts(expert_mu, expert_logvar, mask)

    def forward(
        self,
        inputs: Mapping[str, torch.Tensor],
        mask: torch.Tensor | None = None,
        *,
        batch_size: int | None = None,
    ) -> VAEOutput:
        """Encode any subset of modalities, fuse by PoE, decode every modality.

        Args:
            inputs: modality -> (B, C, S, S); missing modalities are simply absent.
            mask: optional (B, M) per-sample presence mask, combined with what ``inputs`` holds.
            batch_size: needed only when no modality and no mask is given (samples the prior).
        """
        ref = next(self.parameters())
        mask = presence_mask(inputs, self.modalities, mask=mask, batch_size=batch_size, device=ref.device)
        if self.training and self.config.modality_dropout > 0:
            mask = drop_modalities(mask, self.config.modality_dropout)
        expert_mu, expert_logvar, stages = self._encode(inputs, mask.shape[0])
        mu, logvar = product_of_experts(expert_mu, expert_logvar, mask)
        z = reparameterise(mu, logvar) if self.training else mu
        recon = self.decode(z, self.fuse_skips(stages, mask))
        return VAEOutput(recon, mu, logvar, z, expert_mu, expert_logvar, mask)
