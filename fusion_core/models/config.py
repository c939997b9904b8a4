"""Dataclass configs for every network, saved next to the weights so a checkpoint rebuilds itself."""

from __future__ import annotations

import dataclasses
from enum import StrEnum
from typing import Any, TypeVar

from fusion_core.choices import parse_choice

MODALITIES: tuple[str, ...] = ("CT", "MR")

E = TypeVar("E", bound=StrEnum)


class Strategy(StrEnum):
    """Fusion strategies of the lesion classifiers."""

    CT = "ct"
    MR = "mr"
    EARLY = "early"
    INTERMEDIATE_CONCAT = "intermediate-concat"
    INTERMEDIATE_TENSOR = "intermediate-tensor"
    INTERMEDIATE_ATTENTION = "intermediate-attention"
    POE = "poe"
    LATE = "late"
    HYBRID = "hybrid"
    UNCERTAINTY_LATE = "uncertainty-late"


class Task(StrEnum):
    """What a checkpoint does."""

    VAE = "vae"
    CLASSIFIER = "classifier"
    TRANSLATOR = "translator"
    SYNTHESIS = "synthesis"
    DIFFUSION = "diffusion"


@dataclasses.dataclass(frozen=True)
class EncoderConfig:
    """Convolutional slice encoder shared by all networks.

    Attributes:
        image_size: square in-plane size of a slice (pixels); must be divisible by 2**n_down.
        in_channels: channels per modality (1, or 2*k+1 for 2.5-D with k neighbour slices each side).
        base_channels: channels of the first stage; doubled per stage, capped at max_channels.
        n_down: number of stride-2 stages (64 -> 8 with 3; 128 -> 8 with 4).
        max_channels: cap on channels per stage (keeps checkpoints small).
    """

    image_size: int = 64
    in_channels: int = 1
    base_channels: int = 16
    n_down: int = 3
    max_channels: int = 64

    def __post_init__(self) -> None:
        if self.image_size % (2**self.n_down):
            raise ValueError(f"image_size {self.image_size} is not divisible by 2**n_down = {2**self.n_down}")

    def stage_channels(self) -> list[int]:
        """Channels after the stem and after each stride-2 stage (length n_down + 1)."""
        return [min(self.base_channels * 2**i, self.max_channels) for i in range(self.n_down + 1)]

    @property
    def feature_size(self) -> int:
        """Side of the deepest feature map."""
        return self.image_size // 2**self.n_down


@dataclasses.dataclass(frozen=True)
class VAEConfig:
    """Multimodal product-of-experts VAE.

    Attributes:
        encoder: encoder/decoder geometry.
        latent_dim: size of the shared latent vector (when ``latent_channels`` is 0).
        latent_channels: > 0 makes the latent SPATIAL: ``latent_channels`` maps of the deepest
            feature size (e.g. 8 x 16 x 16), flattened to a vector of ``code_dim`` for the PoE
            (which is element-wise anyway). Keeps anatomy in place, so generated images are sharp.
        modalities: modality names, in mask column order.
        modality_dropout: probability of hiding each modality in training (at least one kept).
        skips: U-HVED-style skip paths (needs a spatial latent): each encoder's feature maps above
            the latent level are averaged over the modalities present (a masked mean; zeros when
            none is) and fed to every decoder at their level, so a decoder sees the given
            modality's fine structure (edges, cortical bone) that a coarse latent cannot hold.
            The latent still carries what is shared (the PoE posterior, KL, contrastive term).
    """

    encoder: EncoderConfig = dataclasses.field(default_factory=EncoderConfig)
    latent_dim: int = 64
    latent_channels: int = 0
    modalities: tuple[str, ...] = MODALITIES
    modality_dropout: float = 0.3
    skips: bool = False

    def __post_init__(self) -> None:
        if self.skips and not self.latent_channels:
            raise ValueError("skips need a spatial latent: set latent_channels > 0")

    @property
    def code_dim(self) -> int:
        """Length of the (flattened) latent vector."""
        return self.latent_channels * self.encoder.feature_size**2 if self.latent_channels else self.latent_dim


@dataclasses.dataclass(frozen=True)
class ClassifierConfig:
    """Lesion-presence classifier with one fusion strategy.

    Attributes:
        strategy: a Strategy value.
        encoder: per-modality encoder geometry.
        embed_dim: size of each modality's embedding (and the PoE latent).
        dropout: dropout before each head (also the MC-dropout rate).
        rank: rank of the low-rank bilinear (tensor) fusion.
        heads: attention heads of the cross-modal attention.
        modality_dropout: probability of hiding a modality in training (PoE / late strategies).
        modalities: modality names, in mask column order.
        crop_fraction: in-plane centre crop (fraction of the field of view) applied to input
            slices before resizing to ``encoder.image_size``; equals the training data's
            ``SliceDataConfig.crop_fraction`` so inference sees what training saw.
        lesion_maps: add a 1x1-convolution lesion head on each encoder's feature map, returning a
            coarse lesion-probability map per slice (trained by the "lesion" loss term against
            the lesion mask: localisation supervision that teaches an encoder what a lesion looks
            like instead of where lesion slices tend to lie).
        mr_weightings: the MR weightings the "MR" input stacks as channels, in order (("T1",) or
            ("T1", "T2")); the MR encoder reads ``encoder.in_channels`` per weighting.
        subset_loss: "poe" strategy only: in training, also apply the classification loss to the
            head on each single-modality posterior (MVAE sub-sampling), so that the model works
            with a modality missing as well as the specialist trained on the other alone.
    """

    strategy: str = Strategy.INTERMEDIATE_CONCAT.value
    encoder: EncoderConfig = dataclasses.field(default_factory=EncoderConfig)
    embed_dim: int = 32
    dropout: float = 0.2
    rank: int = 4
    heads: int = 2
    modality_dropout: float = 0.0
    modalities: tuple[str, ...] = MODALITIES
    crop_fraction: float = 1.0
    lesion_maps: bool = False
    subset_loss: bool = False
    mr_weightings: tuple[str, ...] = ("T1",)

    def __post_init__(self) -> None:
        parse_choice(Strategy, self.strategy)
        if not self.mr_weightings or set(self.mr_weightings) - {"T1", "T2"}:
            raise ValueError(f"mr_weightings must be a non-empty subset of ('T1', 'T2'), got {self.mr_weightings}")
        if not 0.0 < self.crop_fraction <= 1.0:
            raise ValueError(f"crop_fraction must be in (0, 1], got {self.crop_fraction}")


@dataclasses.dataclass(frozen=True)
class TranslatorConfig:
    """CycleGAN-style CT<->MR translator (two ResNet generators, two PatchGAN discriminators).

    Attributes:
        image_size: square slice size.
        base_channels: generator channels at full resolution.
        n_res_blocks: residual blocks at the bottleneck.
        disc_channels: discriminator channels of the first layer.
    """

    image_size: int = 64
    base_channels: int = 16
    n_res_blocks: int = 3
    disc_channels: int = 16


@dataclasses.dataclass(frozen=True)
class SynthesisConfig:
    """Paired 2-D (or 2.5-D) U-Net regression from one modality to the other (the yardstick generator).

    Attributes:
        encoder: slice geometry and widths: ``image_size`` (128 = the phantom's native in-plane
            grid), ``in_channels`` per input weighting (1, or 2k+1 for 2.5-D), ``base_channels``,
            ``n_down`` (U-Net levels), ``max_channels``.
        source: the modality read, "MR" or "CT".
        target: the modality produced, "CT" or "MR" (MR means the T1).
        mr_weightings: the MR weightings the "MR" input stacks as channels (source "MR"), in order;
            ("T1",) for a CT -> MR model.
        crop_fraction: in-plane centre crop before resizing (1.0 = the whole field of view).
        flip_average: average the prediction of each slice with the mirrored prediction of its
            left-right mirror image (nnU-Net's test-time mirroring; the network was trained with
            random flips). Used at inference, and by a diffusion refiner for its frozen base in
            training too. Twice the compute; on the demo subjects the 2-D synth-unet went 31.6 -> 30.3 HU.
    """

    encoder: EncoderConfig = dataclasses.field(
        default_factory=lambda: EncoderConfig(image_size=128, base_channels=16, n_down=3, max_channels=128)
    )
    source: str = "MR"
    target: str = "CT"
    mr_weightings: tuple[str, ...] = ("T1", "T2")
    crop_fraction: float = 1.0
    flip_average: bool = False

    def __post_init__(self) -> None:
        if {self.source, self.target} != set(MODALITIES):
            raise ValueError(f"source and target must be 'MR' and 'CT' (either way), got {self.source}, {self.target}")
        if not self.mr_weightings or set(self.mr_weightings) - {"T1", "T2"}:
            raise ValueError(f"mr_weightings must be a non-empty subset of ('T1', 'T2'), got {self.mr_weightings}")

    @property
    def source_channels(self) -> int:
        """Input channels: (2k+1) per MR weighting read, or (2k+1) for a CT source."""
        per = self.encoder.in_channels
        return per * len(self.mr_weightings) if self.source == "MR" else per

    @property
    def input_names(self) -> list[str]:
        """Model-card input names, e.g. ["MR-T1", "MR-T2"] or ["CT"]."""
        return [f"MR-{w}" for w in self.mr_weightings] if self.source == "MR" else ["CT"]


@dataclasses.dataclass(frozen=True)
class DiffusionConfig:
    """Conditional flow-matching refiner of a frozen :class:`SynthesisConfig` U-Net (residual model).

    Attributes:
        synthesis: the U-Net whose output is refined (its weights travel in the checkpoint, frozen).
        base_channels: widths of the velocity network (a U-Net with ``synthesis.encoder.n_down`` levels).
        max_channels: channel cap of the velocity network.
        residual_scale: the residual (truth - U-Net, network units) is divided by this to be ~unit variance.
        steps: Euler steps of the sampler (<= 16).
        samples: samples whose mean ``impute`` returns (and the default of ``impute_with_uncertainty``).
    """

    synthesis: SynthesisConfig = dataclasses.field(default_factory=SynthesisConfig)
    base_channels: int = 8
    max_channels: int = 32
    residual_scale: float = 0.05
    steps: int = 4
    samples: int = 4

    def __post_init__(self) -> None:
        if not 1 <= self.steps <= 16:
            raise ValueError(f"steps must be in 1..16, got {self.steps}")
        if self.samples < 1 or self.residual_scale <= 0:
            raise ValueError("samples must be >= 1 and residual_scale > 0")

    @property
    def encoder(self) -> EncoderConfig:
        """The encoder of the refined U-Net."""
        return self.synthesis.encoder

    @property
    def mr_weightings(self) -> tuple[str, ...]:
        """The refined U-Net's MR weightings."""
        return self.synthesis.mr_weightings

    @property
    def crop_fraction(self) -> float:
        """The refined U-Net's crop fraction."""
        return self.synthesis.crop_fraction

    @property
    def input_names(self) -> list[str]:
        """The refined U-Net's input names."""
        return self.synthesis.input_names


CONFIG_TYPES: dict[Task, type] = {
    Task.VAE: VAEConfig,
    Task.CLASSIFIER: ClassifierConfig,
    Task.TRANSLATOR: TranslatorConfig,
    Task.SYNTHESIS: SynthesisConfig,
    Task.DIFFUSION: DiffusionConfig,
}
NESTED_CONFIGS: dict[str, type] = {"encoder": EncoderConfig, "synthesis": SynthesisConfig}
"""Fields whose dict value is itself a config dataclass."""


def config_to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a (nested) config dataclass."""
    return json_ready(dataclasses.asdict(config))


def json_ready(value: Any) -> Any:
    """Turn tuples into lists recursively (JSON has no tuple)."""
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    return value


def config_from_dict(cls: type, data: dict[str, Any]) -> Any:
    """Rebuild a (nested) config dataclass from ``config_to_dict`` output; unknown keys raise."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(fields)
    if unknown:
        raise ValueError(f"{cls.__name__} has no field(s) {sorted(unknown)}; known: {sorted(fields)}")
    kwargs = {}
    for name, value in data.items():
        field_type = fields[name].type
        if name in NESTED_CONFIGS and isinstance(value, dict):
            value = config_from_dict(NESTED_CONFIGS[name], value)
        elif isinstance(value, list) and "tuple" in str(field_type):
            value = tuple(value)
        kwargs[name] = value
    return cls(**kwargs)
