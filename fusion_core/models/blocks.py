"""Convolutional building blocks: modality-specific slice encoders and decoders."""

from __future__ import annotations

import itertools
import math

import torch
from torch import nn

from fusion_core.models.config import EncoderConfig


def norm(channels: int) -> nn.GroupNorm:
    """GroupNorm: batch-size independent, so batched and per-slice inference agree."""
    return nn.GroupNorm(min(8, channels // 4) or 1, channels)


def conv_block(c_in: int, c_out: int, *, stride: int = 1) -> nn.Sequential:
    """3x3 conv -> GroupNorm -> SiLU."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1), norm(c_out), nn.SiLU())


class ConvEncoder(nn.Module):
    """Slice encoder: stem + ``n_down`` stride-2 stages.

    Input (B, in_channels, S, S); output feature map (B, C, S / 2**n_down, S / 2**n_down).
    """

    def __init__(self, config: EncoderConfig, in_channels: int | None = None) -> None:
        super().__init__()
        chans = config.stage_channels()
        layers = [conv_block(in_channels or config.in_channels, chans[0])]
        for c_in, c_out in itertools.pairwise(chans):
            layers += [conv_block(c_in, c_out, stride=2), conv_block(c_out, c_out)]
        self.body = nn.Sequential(*layers)
        self.out_channels = chans[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, in_channels, S, S) slices -> (B, C, S / 2**n_down, S / 2**n_down) features."""
        return self.body(x)

    def stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Feature maps after the stem and after each stage, finest first (the last is ``forward``'s output)."""
        out = []
        for i, layer in enumerate(self.body):
            x = layer(x)
            if i % 2 == 0:  # the stem, then the second block of each stride-2 stage
                out.append(x)
        return out


class SkipDecoder(nn.Module):
    """Spatial latent + skip features -> slice (B, out_channels, S, S): the decoding half of a U-Net.

    The latent (B, latent_channels * s * s) enters at the deepest level; at every finer level the
    upsampled map is concatenated with that level's skip feature map (the encoders' features,
    fused across the modalities present; zeros when none is given), as in U-HVED (Dorent et al. 2019).
    """

    def __init__(self, config: EncoderConfig, latent_channels: int, out_channels: int = 1) -> None:
        super().__init__()
        chans = config.stage_channels()
        self.latent_shape = (latent_channels, config.feature_size, config.feature_size)
        self.skip_channels = chans[:-1]
        self.project = conv_block(latent_channels, chans[-1])
        self.up = nn.ModuleList(
            nn.Sequential(conv_block(c_deep + c_skip, c_skip), conv_block(c_skip, c_skip))
            for c_deep, c_skip in zip(chans[:0:-1], chans[-2::-1], strict=True)
        )
        self.out = nn.Conv2d(chans[0], out_channels, 3, padding=1)

    def forward(self, z: torch.Tensor, skips: list[torch.Tensor] | None = None) -> torch.Tensor:
        """``skips``: finest-first feature maps of ``skip_channels`` (None decodes from the latent alone)."""
        side = math.isqrt(z.shape[1] // self.latent_shape[0])  # any input size (training crops, full slices)
        h = self.project(z.view(z.shape[0], self.latent_shape[0], side, side))
        for i, block in enumerate(self.up):
            level = len(self.up) - 1 - i
            h = torch.nn.functional.interpolate(h, scale_factor=2.0, mode="nearest")
            skip = (
                skips[level] if skips is not None else h.new_zeros(h.shape[0], self.skip_channels[level], *h.shape[2:])
            )
            h = block(torch.cat([h, skip], dim=1))
        return self.out(h)


class ConvDecoder(nn.Module):
    """Latent vector (B, D) -> slice (B, out_channels, S, S); mirror of ConvEncoder.

    With ``latent_channels`` > 0 the vector is a flattened spatial latent (B, latent_channels * s * s)
    and a 1x1 convolution replaces the dense projection.
    """

    def __init__(self, config: EncoderConfig, latent_dim: int, out_channels: int = 1, latent_channels: int = 0) -> None:
        super().__init__()
        chans = config.stage_channels()[::-1]
        self.start_shape = (chans[0], config.feature_size, config.feature_size)
        self.latent_shape = (latent_channels, config.feature_size, config.feature_size)
        self.project = (
            nn.Conv2d(latent_channels, chans[0], 1)
            if latent_channels
            else nn.Linear(latent_dim, chans[0] * config.feature_size**2)
        )
        layers: list[nn.Module] = []
        for c_in, c_out in itertools.pairwise(chans):
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), conv_block(c_in, c_out), conv_block(c_out, c_out)]
        layers.append(nn.Conv2d(chans[-1], out_channels, 3, padding=1))
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """(B, D) latents -> (B, out_channels, S, S) slices."""
        if self.latent_shape[0]:
            z = z.view(z.shape[0], *self.latent_shape)
        h = torch.nn.functional.silu(self.project(z)).reshape(z.shape[0], *self.start_shape)
        return self.body(h)


class GaussianHead(nn.Module):
    """Feature map (B, C, s, s) -> (mu, logvar), each (B, D). Log-variance clamped for stability."""

    def __init__(self, channels: int, feature_size: int, latent_dim: int) -> None:
        super().__init__()
        self.linear = nn.Linear(channels * feature_size**2, 2 * latent_dim)

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, C, s, s) features -> (mu, logvar), each (B, D), logvar clamped to [-8, 8]."""
        mu, logvar = self.linear(features.flatten(1)).chunk(2, dim=1)
        return mu, logvar.clamp(-8.0, 8.0)


class SpatialGaussianHead(nn.Module):
    """Feature map (B, C, s, s) -> (mu, logvar), each (B, L * s * s), by a 1x1 convolution (spatial latent)."""

    def __init__(self, channels: int, latent_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, 2 * latent_channels, 1)

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, C, s, s) features -> (mu, logvar), each (B, L * s * s), logvar clamped to [-8, 8]."""
        mu, logvar = self.conv(features).chunk(2, dim=1)
        return mu.flatten(1), logvar.flatten(1).clamp(-8.0, 8.0)


class PooledEmbedding(nn.Module):
    """Feature map (B, C, s, s) -> embedding (B, D) from global average AND max pooling.

    Max pooling keeps a small focal finding (a lesion covering a few feature cells) from being
    averaged away over the whole slice.
    """

    def __init__(self, channels: int, embed_dim: int) -> None:
        super().__init__()
        self.linear = nn.Linear(2 * channels, embed_dim)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """(B, C, s, s) features -> (B, D) embedding (average and max pooling, linear, SiLU)."""
        pooled = torch.cat([features.mean(dim=(2, 3)), features.amax(dim=(2, 3))], dim=1)
        return torch.nn.functional.silu(self.linear(pooled))
