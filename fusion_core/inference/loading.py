"""Loading a model: the network, its card and where it came from, as one immutable value.

Nothing is patched onto the ``nn.Module``: a :class:`LoadedModel` holds the network beside its
typed card. Every task function (``classify``, ``impute``, ``encode``) takes a LoadedModel, or a
bare network built in code (for tests and notebooks), whose card is then derived from its config.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch
from torch import nn

from fusion_core.checkpoints import load_model_dir
from fusion_core.devices import select_device
from fusion_core.inference.registry import ASSETS_DIR, ModelCard, ModelInputError, model_dir, read_card
from fusion_core.inference.runtime import Runtime, accelerated, default_runtime
from fusion_core.models import task_of


@dataclasses.dataclass(frozen=True)
class LoadedModel:
    """A network in eval mode with its model card.

    Attributes:
        network: the ``nn.Module`` (shared: callers must not change its mode or hooks without a lock or copy).
        card: its typed model card.
        source: the checkpoint folder ("" for a network built in code).
        fast_network: the same network with parts running in ONNX Runtime (see
            :mod:`fusion_core.inference.runtime`), or None: forward passes use ``network``.
        runtime: where forward passes of :attr:`runner` run.
    """

    network: nn.Module
    card: ModelCard
    source: str = ""
    fast_network: nn.Module | None = None
    runtime: Runtime = Runtime.PYTORCH

    @property
    def runner(self) -> nn.Module:
        """The network for inference-only forward passes (ONNX Runtime parts on the CPU where faster).

        Attributions, MC-dropout and training use :attr:`network`.
        """
        return self.fast_network if self.fast_network is not None else self.network

    @property
    def name(self) -> str:
        """The model's name (from its card)."""
        return self.card.name

    @property
    def task(self) -> str:
        """The model's task (from its card), e.g. "classifier"."""
        return self.card.task

    @property
    def config(self):
        """The network's configuration dataclass."""
        return self.network.config

    @property
    def device(self) -> torch.device:
        """The device the network's parameters are on."""
        return next(self.network.parameters()).device


def load_model(
    name_or_dir: str | Path,
    *,
    device: str | torch.device | None = None,
    assets_dir: str | Path = ASSETS_DIR,
    runtime: Runtime | str | None = None,
) -> LoadedModel:
    """Load a shipped model by name (see ``list_models``) or any checkpoint folder, in eval mode.

    Weights are read from safetensors (never unpickled). ``runtime`` (default: ONNX Runtime on the
    CPU when installed, see :func:`~fusion_core.inference.runtime.default_runtime`) sets where
    :attr:`LoadedModel.runner` runs.

    Raises:
        ModelInputError: the name is neither a shipped model nor a checkpoint folder.
        CheckpointError: the folder's files are missing, corrupt or do not fit its config.
    """
    path = model_dir(name_or_dir, assets_dir)
    network = load_model_dir(path, device=device or select_device())
    card = read_card(path)
    if not card.inputs:  # a bare checkpoint folder: what the network reads comes from its config
        derived = card_from_network(network)
        card = dataclasses.replace(
            card, inputs=derived.inputs, strategy=card.strategy or derived.strategy, outputs=derived.outputs
        )
    chosen = Runtime(runtime) if runtime is not None else default_runtime(next(network.parameters()).device)
    fast = accelerated(network, chosen)
    return LoadedModel(
        network=network,
        card=card,
        source=str(path),
        fast_network=fast if fast is not network else None,
        runtime=chosen if fast is not network else Runtime.PYTORCH,
    )


def card_from_network(network: nn.Module) -> ModelCard:
    """A minimal card for a network built in code: task, inputs and strategy from its config."""
    task = task_of(network).value
    config = network.config
    strategy = getattr(config, "strategy", None)
    mr = [f"MR-{w}" for w in getattr(config, "mr_weightings", ("T1",))]
    inputs = {"ct": ["CT"], "mr": mr}.get(strategy, ["CT", *mr])
    inputs = getattr(config, "input_names", inputs)  # a paired generator reads one side only
    outputs = () if task == "classifier" else tuple(getattr(network, "outputs", getattr(network, "modalities", ())))
    return ModelCard(name=type(network).__name__, task=task, inputs=tuple(inputs), strategy=strategy, outputs=outputs)


def as_loaded(model: LoadedModel | nn.Module) -> LoadedModel:
    """``model`` as a LoadedModel (a bare network gets a card derived from its config)."""
    if isinstance(model, LoadedModel):
        return model
    if isinstance(model, nn.Module):
        return LoadedModel(network=model.eval(), card=card_from_network(model))
    raise ModelInputError(f"expected a loaded model (load_model(name)) or a network, got {type(model).__name__}")
