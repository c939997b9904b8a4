"""Multimodal VAE: modality-specific encoders/decoders, product-of-experts latent with a prior expert."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import torch
from torch import nn

from fusion_core.models.blocks import ConvDecoder, ConvEncoder, GaussianHead, SpatialGaussianHead
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
                m: ConvDecoder(enc, config.latent_dim, out_channels=enc.in_channels, latent_channels=lc)
                for m in config.modalities
            }
        )

    @property
    def modalities(self) -> tuple[str, ...]:
        return self.config.modalities

    def encode_experts(self, inputs: Mapping[str, torch.Tensor], batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-modality Gaussian experts, (B, M, D) each; zeros for modalities not given."""
        ref = next(self.parameters())
        zeros = ref.new_zeros(batch_size, self.config.code_dim)
        mus, logvars = [], []
        for m in self.modalities:
            mu, logvar = self.heads[m](self.encoders[m](inputs[m])) if m in inputs else (zeros, zeros)
            mus.append(mu)
            logvars.append(logvar)
        return torch.stack(mus, dim=1), torch.stack(logvars, dim=1)

    def decode(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        """Latent (B, D) -> modality -> (B, C, S, S)."""
        return {m: self.decoders[m](z) for m in self.modalities}

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
        expert_mu, expert_logvar = self.encode_experts(inputs, mask.shape[0])
        mu, logvar = product_of_experts(expert_mu, expert_logvar, mask)
        z = reparameterise(mu, logvar) if self.training else mu
        return VAEOutput(self.decode(z), mu, logvar, z, expert_mu, expert_logvar, mask)
