"""Trainer config: one dataclass saved beside the weights (trainer.json) together with the model config."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

from fusion_core.losses import (
    ClassifierLossWeights,
    CycleLossWeights,
    DiffusionLossWeights,
    SynthesisLossWeights,
    VAELossWeights,
)
from fusion_core.models.config import CONFIG_TYPES, Task, config_from_dict, json_ready, parse_choice
from fusion_core.training.slice_table import SliceDataConfig

LOSS_TYPES = {Task.VAE: VAELossWeights, Task.CLASSIFIER: ClassifierLossWeights, Task.TRANSLATOR: CycleLossWeights}
LOSS_TYPES |= {Task.SYNTHESIS: SynthesisLossWeights, Task.DIFFUSION: DiffusionLossWeights}
PAIRED_GENERATORS = (Task.SYNTHESIS, Task.DIFFUSION)
LR_SCHEDULES = ("constant", "cosine")


def scheduled_lr(config: TrainConfig, step: int, total_steps: int) -> float:
    """The learning rate of optimiser step ``step`` (0-based) of a run planned for ``total_steps``.

    A pure function of the step count, so a resumed run continues on the same curve without a
    scheduler state to save.
    """
    if config.lr_schedule == "constant":
        return config.lr
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    span = max(total_steps - config.warmup_steps, 1)
    progress = min((step - config.warmup_steps) / span, 1.0)
    floor = config.lr * config.min_lr_fraction
    return floor + (config.lr - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run.

    Attributes:
        name: run / checkpoint name (e.g. "clf-poe").
        task: "vae" | "classifier" | "translator".
        model: the model's config as a dict (see fusion_core.models.config).
        data: SliceDataConfig as a dict.
        loss: the task's loss weights as a dict (VAELossWeights, ClassifierLossWeights, CycleLossWeights).
        epochs: maximum epochs.
        batch_size: per-process batch size.
        lr: Adam learning rate.
        weight_decay: AdamW weight decay.
        seed: seed of torch/numpy (model init, sampling, dropout).
        patience: epochs without validation improvement before stopping (0 = never stop early).
        max_steps: stop after this many optimiser steps (0 = no limit; used by smoke tests).
        noise_modality_prob: probability of replacing one modality of a sample by pure noise and
            marking nothing (teaches uncertainty-aware heads to distrust it); 0 = off.
        init_from: checkpoint folders whose weights initialise this model before training: every
            tensor whose name and shape match is copied (e.g. the unimodal specialists' CT and MR
            encoders into a fusion classifier: unimodal pre-training, then joint fine-tuning).
        flip_prob: probability of a left-right flip of a training sample (all modalities together).
        keep: which weights to ship: "best" (the epoch with the best validation metric) or "last"
            (the final epoch; for GANs, whose validation proxy, the cycle error, is lowest early,
            before the adversarial game has shaped the translations).
        amp: use autocast (bf16) on CUDA.
        num_threads: torch intra-op threads on CPU (0 = leave torch's default).
        patch_size: VAE and translator only: train on one random ``patch_size`` square of each
            batch's slices (same place for every image of the batch; validation sees whole
            slices). These networks are fully convolutional, so a 64-pixel patch of a 128-pixel
            slice costs a quarter of the compute per sample at the same pixel size; 0 = whole slices.
        val_stride: validate on every k-th validation slice (1 = all; a cheaper pass on CPU).
        lr_schedule: "constant" (``lr`` throughout) or "cosine" (linear warm-up over
            ``warmup_steps``, then cosine decay to ``lr * min_lr_fraction`` at the last planned step:
            the low final rate is what lets a regression network settle instead of hopping around
            its minimum, worth several HU for the U-Net at equal steps).
        warmup_steps: steps of linear warm-up of the cosine schedule.
        min_lr_fraction: the cosine schedule's final rate as a fraction of ``lr``.
    """

    name: str
    task: str
    model: dict[str, Any] = dataclasses.field(default_factory=dict)
    data: dict[str, Any] = dataclasses.field(default_factory=dict)
    loss: dict[str, Any] = dataclasses.field(default_factory=dict)
    epochs: int = 10
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 0
    patience: int = 3
    max_steps: int = 0
    noise_modality_prob: float = 0.0
    flip_prob: float = 0.0
    init_from: tuple[str, ...] = ()
    keep: str = "best"
    amp: bool = True
    num_threads: int = 0
    patch_size: int = 0
    val_stride: int = 1
    lr_schedule: str = "constant"
    warmup_steps: int = 0
    min_lr_fraction: float = 0.01

    def __post_init__(self) -> None:
        parse_choice(Task, self.task)
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {self.lr_schedule!r}")
        neighbours = int(self.data.get("neighbours", 0))
        encoder = self.model.get("encoder", self.model.get("synthesis", {}).get("encoder", {}))  # diffusion: nested
        channels = int(encoder.get("in_channels", 1))
        if self.task == Task.TRANSLATOR and neighbours:
            raise ValueError("the CycleGAN translator is 2-D only: set data neighbours to 0")
        if self.task != Task.TRANSLATOR and channels != 2 * neighbours + 1:
            raise ValueError(
                f"model encoder in_channels {channels} does not fit data neighbours {neighbours} "
                f"(2.5-D with k neighbours needs in_channels = 2k+1 = {2 * neighbours + 1})"
            )
        model_mr = tuple(self.model.get("mr_weightings", ("T1",)))
        data_mr = tuple(self.data.get("mr_weightings", ("T1",)))
        if self.task in PAIRED_GENERATORS:
            model_mr = tuple(self.model.get("synthesis", self.model).get("mr_weightings", ("T1", "T2")))
        if self.task in (Task.CLASSIFIER, *PAIRED_GENERATORS) and model_mr != data_mr:
            raise ValueError(f"model mr_weightings {model_mr} differ from data mr_weightings {data_mr}")
        if self.patch_size and self.task == Task.CLASSIFIER:
            raise ValueError("patch_size is for the VAE and the translator; classifiers read whole slices")
        if self.keep not in ("best", "last"):
            raise ValueError(f"keep must be 'best' or 'last', got {self.keep!r}")
        model_crop, data_crop = self.model.get("crop_fraction", 1.0), self.data.get("crop_fraction", 1.0)
        if self.task == Task.CLASSIFIER and model_crop != data_crop:
            raise ValueError(
                f"model crop_fraction {model_crop} differs from data crop_fraction {data_crop}: "
                "inference would not see what training saw"
            )

    @property
    def task_enum(self) -> Task:
        """The task as a :class:`Task`."""
        return Task(self.task)

    def model_config(self):
        """The model config dataclass of the task, from ``model``."""
        return config_from_dict(CONFIG_TYPES[self.task_enum], self.model)

    def data_config(self) -> SliceDataConfig:
        """The slice data config, from ``data``."""
        return config_from_dict(SliceDataConfig, self.data)

    def loss_weights(self):
        """The loss weights dataclass of the task, from ``loss``."""
        return config_from_dict(LOSS_TYPES[self.task_enum], self.loss)

    def to_dict(self) -> dict[str, Any]:
        """The config as a JSON-ready dict."""
        return json_ready(dataclasses.asdict(self))


def load_train_config(path: str | Path, **overrides: Any) -> TrainConfig:
    """Read a TrainConfig from JSON; ``overrides`` replace top-level fields (None values ignored)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"training config {path} does not exist")
    data = json.loads(path.read_text())
    data.update({k: v for k, v in overrides.items() if v is not None})
    return config_from_dict(TrainConfig, data)
