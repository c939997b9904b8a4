"""Checkpoint folders that carry their config: model.safetensors + config.json.

Below both serving (``fusion_core.inference``) and training (``fusion_core.training``): reading a
checkpoint needs the network definitions and safetensors, never the training code, and never
unpickles anything.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from fusion_core.errors import FusionError
from fusion_core.models import build_model, config_to_dict, task_of


class CheckpointError(FusionError):
    """A checkpoint folder is missing a file or does not fit its config."""


def save_model(model: nn.Module, directory: str | Path) -> Path:
    """Write model.safetensors and config.json ({"task", "model"}) into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(directory / "model.safetensors"))
    meta = {"task": task_of(model).value, "model": config_to_dict(model.config)}
    (directory / "config.json").write_text(json.dumps(meta, indent=2))
    return directory


def load_model_dir(directory: str | Path, *, device: str | torch.device = "cpu") -> nn.Module:
    """Rebuild a model from config.json and load model.safetensors (no pickle), in eval mode."""
    directory = Path(directory)
    for name in ("config.json", "model.safetensors"):
        if not (directory / name).is_file():
            raise CheckpointError(f"checkpoint folder {directory} has no {name}")
    try:
        meta = json.loads((directory / "config.json").read_text())
        model = build_model(meta["task"], meta["model"])
    except (ValueError, KeyError, TypeError) as exc:  # JSONDecodeError is a ValueError
        raise CheckpointError(f"config.json in {directory} is damaged or not a model config ({exc})") from None
    try:
        state = load_file(str(directory / "model.safetensors"))
    except Exception as exc:  # SafetensorError, OSError: a truncated or foreign file
        raise CheckpointError(
            f"model.safetensors in {directory} is damaged or not a safetensors file ({exc})"
        ) from None
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise CheckpointError(f"weights in {directory} do not fit its config.json: {exc}") from None
    return model.to(device).eval()
