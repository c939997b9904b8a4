"""CycleGAN-style unpaired CT<->MR translation: two small ResNet generators, two PatchGAN critics."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from fusion_core.models.blocks import norm
from fusion_core.models.config import TranslatorConfig


class ResidualBlock(nn.Module):
    """x + conv-norm-act-conv-norm(x)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect"),
            norm(channels),
            nn.SiLU(),
            nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect"),
            norm(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return x + the residual branch (same shape)."""
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """Image (B, 1, S, S) in [-1, 1] -> image (B, 1, S, S) in [-1, 1]: 2 downsamplings, residual blocks, 2 up."""

    def __init__(self, base: int = 16, n_res_blocks: int = 3) -> None:
        super().__init__()
        c = base
        layers: list[nn.Module] = [nn.Conv2d(1, c, 7, padding=3, padding_mode="reflect"), norm(c), nn.SiLU()]
        for k in (1, 2):
            layers += [nn.Conv2d(c * k, c * 2 * k, 3, stride=2, padding=1), norm(c * 2 * k), nn.SiLU()]
        layers += [ResidualBlock(c * 4) for _ in range(n_res_blocks)]
        for k in (4, 2):
            layers += [
                nn.Upsample(scale_factor=2),
                nn.Conv2d(c * k, c * k // 2, 3, padding=1),
                norm(c * k // 2),
                nn.SiLU(),
            ]
        layers += [nn.Conv2d(c, 1, 7, padding=3, padding_mode="reflect"), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, S, S) image in [-1, 1] -> translated (B, 1, S, S) in [-1, 1]."""
        return self.body(x)


class PatchDiscriminator(nn.Module):
    """PatchGAN critic (Isola et al. 2017): (B, C, S, S) -> (B, 1, S/8, S/8) real/fake logits per patch."""

    def __init__(self, in_channels: int = 1, base: int = 16) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_channels, base, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
        c = base
        for _ in range(2):
            layers += [nn.Conv2d(c, c * 2, 4, stride=2, padding=1), norm(c * 2), nn.LeakyReLU(0.2)]
            c *= 2
        layers.append(nn.Conv2d(c, 1, 3, padding=1))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, S, S) image -> (B, 1, S/8, S/8) real/fake logits per patch."""
        return self.body(x)


class CycleOutput(NamedTuple):
    """Fakes and cycle reconstructions, each (B, 1, S, S) (None where that input was not given)."""

    fake_mr: torch.Tensor | None
    fake_ct: torch.Tensor | None
    cycle_ct: torch.Tensor | None
    cycle_mr: torch.Tensor | None


class CycleGAN(nn.Module):
    """Unpaired translator: ``ct_to_mr`` and ``mr_to_ct`` generators, ``disc_ct`` and ``disc_mr`` critics.

    forward(ct, mr) runs both cycles (ct -> mr -> ct, mr -> ct -> mr); ct and mr need not be
    paired, and either may be None.
    """

    def __init__(self, config: TranslatorConfig) -> None:
        super().__init__()
        self.config = config
        self.ct_to_mr = ResnetGenerator(config.base_channels, config.n_res_blocks)
        self.mr_to_ct = ResnetGenerator(config.base_channels, config.n_res_blocks)
        self.disc_ct = PatchDiscriminator(1, config.disc_channels)
        self.disc_mr = PatchDiscriminator(1, config.disc_channels)

    @property
    def modalities(self) -> tuple[str, ...]:
        """The modalities the translator maps between: CT and MR."""
        return ("CT", "MR")

    def translate(self, x: torch.Tensor, target: str) -> torch.Tensor:
        """Translate a batch to ``target`` ("CT" or "MR") with the matching generator."""
        if target not in self.modalities:
            raise ValueError(f"target must be 'CT' or 'MR', got {target!r}")
        return self.mr_to_ct(x) if target == "CT" else self.ct_to_mr(x)

    def forward(self, ct: torch.Tensor | None = None, mr: torch.Tensor | None = None) -> CycleOutput:
        """Translate each given side and back: fakes and cycle reconstructions (None where a side is missing)."""
        fake_mr = self.ct_to_mr(ct) if ct is not None else None
        fake_ct = self.mr_to_ct(mr) if mr is not None else None
        cycle_ct = self.mr_to_ct(fake_mr) if fake_mr is not None else None
        cycle_mr = self.ct_to_mr(fake_ct) if fake_ct is not None else None
        return CycleOutput(fake_mr, fake_ct, cycle_ct, cycle_mr)
