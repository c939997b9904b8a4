"""The one place that decides which torch device runs the models."""

from __future__ import annotations

import contextlib
import os

import torch


def select_device(preferred: str | None = None):
    """CUDA if available, else Apple MPS, else CPU (``FUSION_DEVICE`` or ``preferred`` overrides).

    Args:
        preferred: "cuda", "mps", "cpu" or a full torch device string; None = automatic.
    """
    choice = preferred or os.environ.get("FUSION_DEVICE")
    if choice:
        return torch.device(choice)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def autocast(device):
    """bf16 autocast on CUDA (no grad scaler needed), a no-op context elsewhere."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()
