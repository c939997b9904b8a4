"""Tiny networks (32x32 slices, 8 base channels) so every model test runs in milliseconds."""

from __future__ import annotations

import pytest
import torch

from fusion_core.models.config import EncoderConfig


@pytest.fixture
def tiny_encoder() -> EncoderConfig:
    return EncoderConfig(image_size=32, base_channels=8, n_down=2, max_channels=16)


@pytest.fixture
def pair() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {"CT": torch.randn(3, 1, 32, 32, generator=g), "MR": torch.randn(3, 1, 32, 32, generator=g)}
