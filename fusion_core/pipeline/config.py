"""What a pipeline run does: its steps and every setting that changes a subject's outputs."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from enum import StrEnum
from typing import Any

from fusion_core.choices import parse_choice
from fusion_core.preprocess.normalise import NormalisationMethod

PIPELINE_VERSION = 2  # bump when a step's outputs change, so resumed runs redo every subject
FALLBACK_SYNTHESIS = "vae-poe"
DEFAULT_CLASSIFIER = "clf-early"


class Step(StrEnum):
    """A pipeline step, in pipeline order."""

    REGISTER = "register"
    NORMALISE = "normalise"
    SYNTHESISE = "synthesise"
    CLASSIFY = "classify"
    EVALUATE = "evaluate"
    ENCODE = "encode"


class ExportFormat(StrEnum):
    """Optional export formats of the generated volumes."""

    DICOM = "dicom"  # each generated volume also as a zipped DICOM series


DEFAULT_STEPS = (Step.REGISTER, Step.NORMALISE, Step.SYNTHESISE, Step.CLASSIFY, Step.EVALUATE)


def parse_steps(text: str | list[str] | tuple[str, ...]) -> tuple[Step, ...]:
    """Steps from "register,normalise" (or a list), in the pipeline's order, duplicates dropped."""
    names = text.split(",") if isinstance(text, str) else list(text)
    chosen = {parse_choice(Step, name.strip(), "pipeline step") for name in names if str(name).strip()}
    return tuple(step for step in Step if step in chosen)


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    """Everything that changes a subject's outputs (its digest decides whether a subject is redone).

    Attributes:
        steps: the steps to run (see :class:`Step`), in pipeline order.
        synthesis_models: generative models for the synthesise step (names or checkpoint folders).
        classifiers: classifiers for the classify step.
        encoders: VAEs (or the PoE classifier) whose latents the encode step stores.
        registration: keyword options of ``register_rigid`` (e.g. ``{"sampling": 0.05}``).
        mr_normalisation: normaliser of the MR (``fusion_core.preprocess.normalise`` method name).
        ct_normalisation: normaliser of the CT (e.g. "ct_window").
        mc_samples: MC-dropout passes of each classifier.
        tre_points: points inside the head at which TRE is measured (when the true transform is known).
        seed: seed of the TRE points and the classifiers' dropout draws.
        export: extra formats of the generated volumes (see :class:`ExportFormat`; NIfTI is always written).
    """

    steps: tuple[Step, ...] = DEFAULT_STEPS
    synthesis_models: tuple[str, ...] = ()
    classifiers: tuple[str, ...] = (DEFAULT_CLASSIFIER,)
    encoders: tuple[str, ...] = ()
    registration: dict[str, Any] = dataclasses.field(default_factory=dict)
    mr_normalisation: str = NormalisationMethod.ZSCORE.value
    ct_normalisation: str = NormalisationMethod.CT_WINDOW.value
    mc_samples: int = 8
    tre_points: int = 200
    seed: int = 0
    export: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", parse_steps(self.steps))
        object.__setattr__(
            self, "export", tuple(str(parse_choice(ExportFormat, f, "export format")) for f in self.export)
        )
        for name in ("mr_normalisation", "ct_normalisation"):
            parse_choice(NormalisationMethod, getattr(self, name), name)

    def has(self, step: Step) -> bool:
        """True when ``step`` is configured."""
        return step in self.steps

    def as_dict(self) -> dict[str, Any]:
        """The config as a JSON-ready dict (steps as strings)."""
        data = dataclasses.asdict(self)
        data["steps"] = [str(s) for s in self.steps]
        if not self.export:  # runs from before the option existed stay current
            del data["export"]
        return json.loads(json.dumps(data, default=list))

    def digest(self) -> str:
        """A short hash of the settings and the pipeline version."""
        text = json.dumps({"settings": self.as_dict(), "version": PIPELINE_VERSION}, sort_keys=True)
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def split_models(names: list[str] | tuple[str, ...]) -> dict[str, list[str]]:
    """``--models`` names grouped by what the pipeline does with them: "synthesis", "classifier", "encoder".

    A VAE is a generator and an encoder; the PoE classifier also encodes.

    Raises:
        ModelInputError: a name that is neither a shipped model nor a checkpoint folder.
    """
    # lazy: fusion_core.inference imports torch; this module's import stays torch-free
    from fusion_core.inference import read_card
    from fusion_core.inference.registry import GENERATIVE_TASKS, model_dir

    groups: dict[str, list[str]] = {"synthesis": [], "classifier": [], "encoder": []}
    for name in names:
        card = read_card(model_dir(name))
        if card.task in GENERATIVE_TASKS:
            groups["synthesis"].append(name)
        if card.task == "classifier":
            groups["classifier"].append(name)
        if card.task == "vae" or (card.task == "classifier" and card.strategy == "poe"):
            groups["encoder"].append(name)
    return groups


def default_synthesis_models() -> tuple[str, ...]:
    """The first shipped model of task "synthesis" (the paired U-Net), else the PoE VAE."""
    # lazy: fusion_core.inference imports torch; this module's import stays torch-free
    from fusion_core.inference import list_models

    synthesis = list_models(task="synthesis")
    return (synthesis[0],) if synthesis else (FALLBACK_SYNTHESIS,)


def build_config(
    steps: str | tuple[str, ...] = DEFAULT_STEPS, models: list[str] | tuple[str, ...] = (), **options: Any
) -> PipelineConfig:
    """A config from the CLI's view, ``models`` sorted into generators, classifiers and encoders.

    Defaults where none is named (synthesis: :func:`default_synthesis_models`; classify: clf-early plus
    the named classifiers; encode: the named encoders, else vae-poe).
    """
    groups = split_models(list(models))
    classifiers = tuple(dict.fromkeys([DEFAULT_CLASSIFIER, *groups["classifier"]]))
    return PipelineConfig(
        steps=parse_steps(steps) if isinstance(steps, str) else tuple(steps),
        synthesis_models=tuple(groups["synthesis"]) or default_synthesis_models(),
        classifiers=classifiers,
        encoders=tuple(groups["encoder"]) or (FALLBACK_SYNTHESIS,),
        **options,
    )
