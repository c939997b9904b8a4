"""Conditional flow matching (Lipman et al. 2023) as a residual refiner of a frozen synthesis U-Net.

The U-Net's prediction ``base`` is refined by a sampled residual: ``x = base + residual_scale * r``
with ``r`` drawn by integrating a learned velocity field from Gaussian noise (t = 0) to the
residual distribution (t = 1) in ``steps`` Euler steps, conditioned on the source slices and
``base``. Several samples per input give a per-voxel spread: an uncertainty map. The U-Net's
weights live inside this module (frozen), so the checkpoint loads on its own.
"""

from __future__ import annotations

import torch
from torch import nn

from fusion_core.models.config import DiffusionConfig
from fusion_core.models.unet import UNet, flip_averaged, synthesis_unet


class DiffusionRefiner(nn.Module):
    """Frozen ``unet`` (source -> base prediction) + ``denoiser`` (velocity of the residual flow).

    ``forward(x_t, t, source, base)`` is the velocity (B, 1, S, S) at flow time ``t`` (B,) in [0, 1].
    """

    def __init__(self, config: DiffusionConfig) -> None:
        super().__init__()
        self.config = config
        syn = config.synthesis
        self.unet = synthesis_unet(syn)
        self.unet.requires_grad_(False)
        in_channels = 1 + syn.source_channels + 1 + 1  # x_t, source, base, t
        self.denoiser = UNet(
            in_channels,
            1,
            base=config.base_channels,
            n_down=syn.encoder.n_down,
            max_channels=config.max_channels,
        )

    @property
    def modalities(self) -> tuple[str, ...]:
        """The one input modality: the U-Net's source."""
        return (self.config.synthesis.source,)

    @property
    def outputs(self) -> tuple[str, ...]:
        """The one output modality: the U-Net's target."""
        return (self.config.synthesis.target,)

    def base(self, source: torch.Tensor) -> torch.Tensor:
        """The frozen U-Net's prediction (B, 1, S, S) in network units.

        Mirror-averaged when the synthesis config's ``flip_average`` says so (in training too, so the
        residual the flow learns is the one left by the base it will refine).
        """
        if self.config.synthesis.flip_average:
            return flip_averaged(self.unet, source)
        return self.unet(source)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, source: torch.Tensor, base: torch.Tensor) -> torch.Tensor:
        """Velocity (B, 1, S, S) at ``x_t`` and times ``t`` (B,), given the source and the U-Net's base prediction."""
        time = t.view(-1, 1, 1, 1).to(x_t.dtype).expand_as(x_t)
        return self.denoiser(torch.cat([x_t, source, base, time], dim=1))

    def sample(
        self,
        source: torch.Tensor,
        *,
        samples: int | None = None,
        steps: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Refined predictions (K, B, 1, S, S) in network units: base + scaled sampled residual.

        Args:
            source: (B, C, S, S) source slices.
            samples: K (default ``config.samples``).
            steps: Euler steps (default ``config.steps``).
            generator: seeds the starting noise (same generator state, same samples).
        """
        k, n = samples or self.config.samples, steps or self.config.steps
        base = self.base(source)
        out = []
        for _ in range(k):
            x = torch.randn(base.shape, generator=generator, device=base.device, dtype=base.dtype)
            for i in range(n):
                t = torch.full((base.shape[0],), i / n, device=base.device)
                x = x + self(x, t, source, base) / n
            out.append(base + self.config.residual_scale * x)
        return torch.stack(out)
