"""Pure nn.Modules for CT/MR fusion.

PoE VAE, cross-modal attention, fusion classifiers, CycleGAN, synthesis U-Net and its flow-matching
refiner.

``forward`` never computes a loss (see ``fusion_core.losses``); sampling happens only in training mode.
``build_model(task, config)`` rebuilds any network from its config dataclass.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from fusion_core.models.attention import CrossModalAttention
from fusion_core.models.classifiers import ClassifierOutput, FusionClassifier
from fusion_core.models.config import (
    CONFIG_TYPES,
    ClassifierConfig,
    DiffusionConfig,
    EncoderConfig,
    Strategy,
    SynthesisConfig,
    Task,
    TranslatorConfig,
    VAEConfig,
    config_from_dict,
    config_to_dict,
    parse_choice,
)
from fusion_core.models.diffusion import DiffusionRefiner
from fusion_core.models.poe import product_of_experts
from fusion_core.models.translator import CycleGAN, PatchDiscriminator, ResnetGenerator
from fusion_core.models.unet import SynthesisUNet, UNet
from fusion_core.models.vae import MultimodalVAE, VAEOutput

MODEL_TYPES: dict[Task, type[nn.Module]] = {
    Task.VAE: MultimodalVAE,
    Task.CLASSIFIER: FusionClassifier,
    Task.TRANSLATOR: CycleGAN,
    Task.SYNTHESIS: SynthesisUNet,
    Task.DIFFUSION: DiffusionRefiner,
}


def build_model(task: str, config: Any) -> nn.Module:
    """Build the network for ``task`` from its config dataclass or a dict of it."""
    task = parse_choice(Task, task)
    if isinstance(config, dict):
        config = config_from_dict(CONFIG_TYPES[task], config)
    return MODEL_TYPES[task](config)


def task_of(model: nn.Module) -> Task:
    """The Task of a built network."""
    for task, cls in MODEL_TYPES.items():
        if isinstance(model, cls):
            return task
    raise ValueError(f"{type(model).__name__} is not one of {[c.__name__ for c in MODEL_TYPES.values()]}")


__all__ = [
    "ClassifierConfig",
    "ClassifierOutput",
    "CrossModalAttention",
    "CycleGAN",
    "DiffusionConfig",
    "DiffusionRefiner",
    "EncoderConfig",
    "FusionClassifier",
    "MultimodalVAE",
    "PatchDiscriminator",
    "ResnetGenerator",
    "Strategy",
    "SynthesisConfig",
    "SynthesisUNet",
    "Task",
    "TranslatorConfig",
    "UNet",
    "VAEConfig",
    "VAEOutput",
    "build_model",
    "config_to_dict",
    "product_of_experts",
    "task_of",
]
