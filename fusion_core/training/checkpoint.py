"""Training-side checkpoint state: resumable optimiser state and initialisation from other checkpoints.

The model files themselves (``save_model``, ``load_model_dir``) live in :mod:`fusion_core.checkpoints`,
which serving uses without importing training code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file
from torch import nn

from fusion_core.checkpoints import CheckpointError, load_model_dir, save_model

__all__ = ["CheckpointError", "init_from_checkpoints", "load_model_dir", "load_state", "save_model", "save_state"]


def save_state(directory: str | Path, state: dict[str, Any]) -> None:
    """Optimiser/epoch state for resuming (torch.save of tensors and plain containers only)."""
    torch.save(state, Path(directory) / "state.pt")


def load_state(directory: str | Path) -> dict[str, Any] | None:
    """The resume state, or None if the folder has none; loaded with weights_only=True."""
    path = Path(directory) / "state.pt"
    return torch.load(path, weights_only=True, map_location="cpu") if path.is_file() else None


def init_from_checkpoints(model: nn.Module, directories: tuple[str, ...] | list[str]) -> list[str]:
    """Copy every tensor of the given checkpoints whose name and shape match ``model``'s.

    Returns:
        the names of the tensors copied (later folders win on overlap).

    Raises:
        CheckpointError: a folder is not a checkpoint, or nothing in it matches.
    """
    target = model.state_dict()
    copied: dict[str, torch.Tensor] = {}
    for directory in directories:
        path = Path(directory) / "model.safetensors"
        if not path.is_file():
            raise CheckpointError(f"init_from: {directory} has no model.safetensors (train it first)")
        matches = {k: v for k, v in load_file(str(path)).items() if k in target and target[k].shape == v.shape}
        if not matches:
            raise CheckpointError(f"init_from: no tensor of {directory} fits this model")
        copied.update(matches)
    model.load_state_dict(copied, strict=False)
    return sorted(copied)
