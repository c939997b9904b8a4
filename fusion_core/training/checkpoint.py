"""Checkpoints that carry their config: model.safetensors + config.json (+ trainer.json, state.pt for resume)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from fusion_core.errors import FusionError
from fusion_core.models import build_model, config_to_dict, task_of


class CheckpointError(FusionError):
    """A checkpoint folder is missing a file or does not fit its config."""


def save_model(model: nn.Module, directory: str | Path) -> Path:
    """Write model.safetensors and config.json ({"task", "model"}) into ``directory``."""
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(directory / "model.safetensors"))
    meta = {"task": task_of(model).value, "model": config_to_dict(model.config)}
    (directory / "config.json").write_text(json.dumps(meta, indent=2))
    return directory


def load_model_dir(directory: str | Path, *, device: str | torch.device = "cpu") -> nn.Module:
    """Rebuild a model from config.json and load model.safetensors (no pickle), in eval mode."""
    from safetensors.torch import load_file

    directory = Path(directory)
    for name in ("config.json", "model.safetensors"):
        if not (directory / name).is_file():
            raise CheckpointError(f"checkpoint folder {directory} has no {name}")
    meta = json.loads((directory / "config.json").read_text())
    model = build_model(meta["task"], meta["model"])
    try:
        model.load_state_dict(load_file(str(directory / "model.safetensors")))
    except RuntimeError as exc:
        raise CheckpointError(f"weights in {directory} do not fit its config.json: {exc}") from None
    return model.to(device).eval()


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
    from safetensors.torch import load_file

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
