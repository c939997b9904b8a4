"""A damaged checkpoint folder is a CheckpointError naming it; weights never go through pickle."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from fusion_core.checkpoints import CheckpointError, load_model_dir

SHIPPED = Path(__file__).resolve().parents[1] / "assets" / "models" / "clf-ct"


@pytest.fixture
def checkpoint(tmp_path) -> Path:
    target = tmp_path / "ckpt"
    target.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copyfile(SHIPPED / name, target / name)
    return target


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        ("model.safetensors", b"\x80\x04not safetensors", r"model\.safetensors .*damaged or not a safetensors file"),
        ("model.safetensors", None, r"model\.safetensors .*damaged"),  # truncated to half
        ("config.json", b"{not json", r"config\.json .*damaged or not a model config"),
        ("config.json", b'{"task": "classifier"}', r"config\.json .*damaged or not a model config"),
    ],
)
def test_damaged_checkpoint_is_a_checkpoint_error(checkpoint, name, data, problem):
    path = checkpoint / name
    path.write_bytes(data if data is not None else path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match=problem):
        load_model_dir(checkpoint)


def test_loading_never_unpickles(checkpoint, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("torch.load (pickle) must not be used for model weights")

    monkeypatch.setattr(torch, "load", refuse)
    assert not load_model_dir(checkpoint).training
