"""Paired slice-to-slice regression: a 2-D U-Net with skip connections (Ronneberger et al. 2015).

The yardstick generator of cross-modal synthesis (SynthRAD-style: a regression U-Net from MR to
CT, or CT to MR). 2.5-D inputs stack neighbour slices as channels. The network works in the
intensity units of :mod:`fusion_core.preprocess.network`; losses live in ``fusion_core.losses``.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

from fusion_core.models.blocks import conv_block
from fusion_core.models.config import SynthesisConfig


class UNet(nn.Module):
    """(B, in_channels, S, S) -> (B, out_channels, S, S): ``n_down`` stride-2 levels, skips at every level.

    Channels per level are ``base * 2**i`` capped at ``max_channels``; decoder levels upsample
    (nearest), concatenate the encoder's feature map of the same size, and apply two conv blocks.
    """

    def __init__(self, in_channels: int, out_channels: int, *, base: int, n_down: int, max_channels: int) -> None:
        super().__init__()
        chans = [min(base * 2**i, max_channels) for i in range(n_down + 1)]
        self.stem = nn.Sequential(conv_block(in_channels, chans[0]), conv_block(chans[0], chans[0]))
        self.down = nn.ModuleList(
            nn.Sequential(conv_block(a, b, stride=2), conv_block(b, b)) for a, b in itertools.pairwise(chans)
        )
        self.up = nn.ModuleList(
            nn.Sequential(conv_block(b + a, a), conv_block(a, a)) for a, b in itertools.pairwise(chans)
        )
        self.head = nn.Conv2d(chans[0], out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, in_channels, S, S) -> (B, out_channels, S, S)."""
        skips = [self.stem(x)]
        for stage in self.down:
            skips.append(stage(skips[-1]))
        h = skips.pop()
        for stage in reversed(self.up):
            skip = skips.pop()
            h = stage(torch.cat([nn.functional.interpolate(h, size=skip.shape[-2:], mode="nearest"), skip], dim=1))
        return self.head(h)


def flip_averaged(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The mean of ``net(x)`` and the mirrored ``net`` of the left-right mirrored ``x`` (last axis).

    nnU-Net's test-time mirroring, for a network trained with random left-right flips.
    """
    return 0.5 * (net(x) + net(x.flip(-1)).flip(-1))


def synthesis_unet(config: SynthesisConfig) -> UNet:
    """The U-Net a :class:`SynthesisConfig` describes (shared by the diffusion refiner's frozen copy)."""
    e = config.encoder
    return UNet(config.source_channels, 1, base=e.base_channels, n_down=e.n_down, max_channels=e.max_channels)


class SynthesisUNet(nn.Module):
    """Paired regression generator: ``source`` slices (B, C, S, S) -> ``target`` slice (B, 1, S, S).

    Input and output are in network units (CT: piecewise-linear HU scale; MR: within-head
    percentile scale), the output is the centre slice of a 2.5-D input.
    """

    def __init__(self, config: SynthesisConfig) -> None:
        super().__init__()
        self.config = config
        self.unet = synthesis_unet(config)

    @property
    def modalities(self) -> tuple[str, ...]:
        """The network input it reads ("MR" or "CT")."""
        return (self.config.source,)

    @property
    def outputs(self) -> tuple[str, ...]:
        """What it generates ("CT" or "MR")."""
        return (self.config.target,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, S, S) source slices in network units -> (B, 1, S, S) target slice."""
        return self.unet(x)
