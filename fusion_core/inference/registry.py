"""The model registry: shipped checkpoints and their typed model cards.

A model card (``model_card.json`` beside the weights) says what a model is (task, inputs,
strategy), what it was trained and tested on (cohort spec and split), how well it did, and the
exact command that reproduces it. :class:`ModelCard` is its typed view; the raw JSON stays
available for fields the app does not interpret.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fusion_core.case import weighting_key
from fusion_core.errors import FusionError
from fusion_core.models.config import Task
from fusion_core.paths import assets_dir
from fusion_core.volume import is_mr, normalise_modality

ASSETS_DIR = assets_dir() / "models"
GENERATIVE_TASKS = (Task.VAE, Task.TRANSLATOR, Task.SYNTHESIS, Task.DIFFUSION)


class ModelInputError(FusionError):
    """Volumes or a model name that do not fit a model (modality, grid, size, target, unknown name)."""


@dataclasses.dataclass(frozen=True)
class ModelCard:
    """Typed view of ``model_card.json``.

    Attributes:
        name: model name (its folder's name).
        task: "classifier" | "vae" | "translator" | "synthesis" | "diffusion".
        inputs: the modalities it reads, e.g. ("CT", "MR-T1", "MR-T2").
        strategy: fusion strategy of a classifier, else None.
        cohort: what it was trained, validated and tested on: {"spec": name, "split": "train",
            "validation": {...}, "test": {...}} ({} when unknown).
        metrics: validation (and benchmark) metrics.
        command: the command that retrains it.
        train_seconds: wall time of that training.
        data: the training data config (``SliceDataConfig`` fields) it was trained with.
        outputs: what ``impute`` can produce with it ("CT", "MR"); () for a classifier. Cards
            written before the field existed get their network's modalities (VAE, translator: both;
            a synthesis or diffusion model: its config's target).
        training_data: "paired" (each training subject's CT and MR from one person), "unpaired" (CT and
            MR of different people, e.g. pseudo-pairs made by registration) or "" when unknown. Cards
            written before the field existed get it from their cohort spec's ``paired``.
        raw: the whole card as read.
    """

    name: str
    task: str
    inputs: tuple[str, ...]
    strategy: str | None = None
    cohort: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    metrics: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    command: str = ""
    train_seconds: float | None = None
    data: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    outputs: tuple[str, ...] = ()
    training_data: str = ""
    raw: Mapping[str, Any] = dataclasses.field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, name: str = "") -> ModelCard:
        """Build a card from the parsed ``model_card.json`` (``name``: used when the file has none)."""
        trainer = data.get("trainer", {})
        return cls(
            name=str(data.get("name", name)),
            task=str(data.get("task", "")),
            inputs=tuple(normalise_input(m) for m in data.get("inputs", ())),
            strategy=data.get("strategy"),
            cohort=dict(data.get("cohort", {})),
            metrics=dict(data.get("metrics", {})),
            command=str(data.get("command", "")),
            train_seconds=data.get("train_seconds"),
            data=dict(trainer.get("data", {})),
            outputs=tuple(data.get("outputs") or default_outputs(data)),
            training_data=str(data.get("training_data") or default_training_data(data)),
            raw=dict(data),
        )

    @property
    def min_brain_fraction(self) -> float:
        """``min_brain_fraction`` of the training slices (0 when unknown)."""
        return float(self.data.get("min_brain_fraction", 0.0))

    @property
    def trained_on(self) -> tuple[str, ...]:
        """Cohort spec names whose subjects the model saw in training or model selection."""
        specs = [self.cohort.get("spec"), self.cohort.get("validation", {}).get("spec")]
        return tuple(dict.fromkeys(s for s in specs if s))

    def describe_inputs(self) -> str:
        """e.g. "CT + MR-T1 + MR-T2"."""
        return " + ".join(self.inputs)


def default_outputs(card: Mapping[str, Any]) -> tuple[str, ...]:
    """What an older card's model generates, from its task and config (cards without "outputs")."""
    task = card.get("task", "")
    if task in ("vae", "translator"):
        return ("CT", "MR")
    if task in ("synthesis", "diffusion"):
        config = card.get("config", {})
        return (str(config.get("synthesis", config).get("target", "CT")),)
    return ()


def default_training_data(card: Mapping[str, Any]) -> str:
    """Paired or unpaired ("paired" / "unpaired") from an older card's cohort definition ("" when it names none)."""
    paired = card.get("cohort", {}).get("definition", {}).get("paired")
    return "" if paired is None else "paired" if paired else "unpaired"


def normalise_input(name: str) -> str:
    """A model input name: "CT", "MR-T1", "MR-T2" ("MR" and "T1" mean MR-T1)."""
    modality = normalise_modality(name)
    if modality == "CT":
        return "CT"
    if not is_mr(modality):
        raise ValueError(f"unknown modality {name!r}; models take CT, MR-T1 and MR-T2")
    return weighting_key(modality)


def read_card(directory: str | Path) -> ModelCard:
    """The card of a checkpoint folder (built from config.json alone when the folder has no card)."""
    directory = Path(directory)
    path = directory / "model_card.json"
    try:
        data = json.loads(path.read_text()) if path.is_file() else {}
    except (OSError, ValueError) as exc:
        raise ModelInputError(f"model card {path} cannot be read: {exc}") from None
    if not data.get("task") and (directory / "config.json").is_file():
        data = {"task": json.loads((directory / "config.json").read_text()).get("task", ""), **data}
    return ModelCard.from_dict(data, name=directory.name)


def single_modality(card: ModelCard) -> str | None:
    """Return "CT" or "MR" when the card is a classifier whose strategy reads that modality alone, else None.

    The role of a unimodal classifier (the inputs of the independence bound) comes from its card's
    ``strategy`` ("ct" / "mr"), never from its folder's name.
    """
    if card.task != Task.CLASSIFIER or (card.strategy or "").upper() not in ("CT", "MR"):
        return None
    return card.strategy.upper()


def list_models(
    assets_dir: str | Path = ASSETS_DIR, *, task: str | None = None, inputs: tuple[str, ...] | None = None
) -> list[str]:
    """Names of the shipped models (folders holding a model_card.json), sorted.

    Args:
        assets_dir: where to look.
        task: keep only models of this task (e.g. "classifier", or "generative" for every generator).
        inputs: keep only models that can run on these modalities (their inputs are a subset).
    """
    root = Path(assets_dir)
    names = sorted(p.parent.name for p in root.glob("*/model_card.json")) if root.is_dir() else []
    if task is None and inputs is None:
        return names
    wanted = GENERATIVE_TASKS if task == "generative" else (task,) if task else tuple(Task)
    given = {normalise_input(m) for m in inputs} if inputs is not None else None
    cards = {n: read_card(root / n) for n in names}
    return [n for n, c in cards.items() if c.task in wanted and (given is None or any(m in given for m in c.inputs))]


def model_dir(name_or_dir: str | Path, assets_dir: str | Path = ASSETS_DIR) -> Path:
    """The checkpoint folder of a shipped model name, or the folder itself.

    Raises:
        ModelInputError: neither a shipped model nor a checkpoint folder.
    """
    path = Path(name_or_dir)
    if (path / "config.json").is_file():
        return path
    shipped = Path(assets_dir) / str(name_or_dir)
    if (shipped / "config.json").is_file():
        return shipped
    raise ModelInputError(
        f"no model {str(name_or_dir)!r}: not a checkpoint folder and not one of {list_models(assets_dir)}"
    )
