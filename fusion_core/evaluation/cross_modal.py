"""Cross-modal generation on one case: what a model can make, the real target, errors, cycles, what-ifs.

The Cross-modal Generation page and its benchmark call these; every number they show comes from
:func:`fusion_core.evaluation.generation.generation_metrics`, the function the generation benchmark uses.

Conventions:

* A direction is a :class:`Direction` ``(source, target)``: ("MR", "CT") or ("CT", "MR").
* Generated MR comes back on the networks' 0..1000 scale (``unit_to_mr``); a real MR is compared on
  that same scale (:func:`mr_on_generated_scale`: its within-head 0.5/99.5 percentiles -> 0/1000), so a
  difference of 100 is a tenth of the MR's bright range whatever its scanner gain.
* Signed errors are ``generated - real`` inside the head, NaN outside (air carries no information).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import ndimage

from fusion_core.case import Case
from fusion_core.data.cohorts import get_cohort_spec
from fusion_core.errors import FusionError
from fusion_core.evaluation.baselines import TissueClassMapper, fit_tissue_mapper
from fusion_core.evaluation.generation import GenerationMetrics, generation_metrics
from fusion_core.explain.uncertainty import has_spatial_latent, posterior_variance
from fusion_core.inference.loading import as_loaded
from fusion_core.preprocess.masks import case_head_mask, mr_head_mask
from fusion_core.preprocess.network import mr_to_unit, unit_to_mr
from fusion_core.volume import Volume


class Direction(NamedTuple):
    """What a generation reads (``source``) and what it makes (``target``): "CT" or "MR" each."""

    source: str
    target: str


DIRECTIONS = (Direction("MR", "CT"), Direction("CT", "MR"))
"""The two generation directions, MR -> CT first (the clinically common one: MR-only radiotherapy)."""
BASELINE = "tissue-class baseline"
BASELINE_SPEC = "classifier-train"  # the demo distribution drawn from other people than the demo cohort
ERROR_UNITS = {"CT": "HU", "MR": "MR units (0–1000 scale)"}


class GenerationViewError(FusionError):
    """A generation request that does not fit the case (missing source scan, unknown direction)."""


def generated_modalities(model) -> tuple[str, ...]:
    """What a generative model can produce: ``card.outputs`` when its card says, else its network's modalities.

    Args:
        model: a :class:`~fusion_core.inference.LoadedModel`.

    Returns:
        e.g. ("CT", "MR") for the PoE VAE, ("CT",) for an MR->CT U-Net.
    """
    outputs = getattr(model.card, "outputs", None)
    return tuple(outputs) if outputs else tuple(getattr(model.network, "modalities", ()))


def can_generate(model, source: str, target: str) -> bool:
    """Whether ``model`` reads some ``source`` ("CT" | "MR") scan and can produce ``target``."""
    reads = {"CT" if name == "CT" else "MR" for name in model.card.inputs}
    return source in reads and target in generated_modalities(model)


def source_volumes(case: Case, source: str) -> dict[str, Volume]:
    """The scans a model gets for a ``source`` ("CT" | "MR"): the CT, or every MR weighting of the case.

    Raises:
        GenerationViewError: the case has no such scan.
    """
    volumes = {"CT": case.ct} if source == "CT" else dict(case.mr_weightings)
    volumes = {name: volume for name, volume in volumes.items() if volume is not None}
    if not volumes:
        raise GenerationViewError(
            f"{case.subject_id} has no {source}: {source} → {'MR' if source == 'CT' else 'CT'} needs one"
        )
    return volumes


def mr_on_generated_scale(mr: Volume) -> Volume:
    """A real MR on the generated MR's 0..1000 scale (within-head percentiles 0.5/99.5 -> 0/1000)."""
    return mr.with_array(unit_to_mr(mr_to_unit(mr.array)[0]), name=f"{mr.name} (0–1000 scale)".strip())


def real_target(case: Case, target: str) -> Volume | None:
    """The real ``target`` scan of a case on the generated scale (HU for CT), or None when there is none."""
    if target == "CT":
        return case.ct
    return mr_on_generated_scale(case.mr) if case.mr is not None else None


def case_brain_mask(case: Case) -> np.ndarray | None:
    """The case's brain mask (the phantom's truth), or None for real data."""
    return case.masks["brain"].array > 0.5 if "brain" in case.masks else None


def signed_error(generated: Volume, real: Volume, head: np.ndarray) -> Volume:
    """``generated - real`` inside ``head`` (NaN outside), float32, on the real scan's grid."""
    error = np.where(head, generated.array.astype(np.float32) - real.array.astype(np.float32), np.nan)
    return real.with_array(error.astype(np.float32), modality="ERROR", name=f"{generated.name} − real")


def symmetric_limit(error: np.ndarray, *, percentile: float = 99.0) -> float:
    """A round colour limit for a signed error map: the ``percentile`` of |error| rounded up (50, 100, 150...)."""
    values = np.abs(error[np.isfinite(error)])
    raw = float(np.percentile(values, percentile)) if values.size else 1.0
    step = 10.0 ** np.floor(np.log10(max(raw, 1e-6))) / 2.0
    return float(np.ceil(raw / step) * step)


ERROR_SCALES: dict[str, tuple[float, ...]] = {
    "CT": (100.0, 200.0, 300.0, 500.0, 1000.0, 2000.0),
    "MR": (50.0, 100.0, 200.0, 300.0, 500.0, 1000.0),
}


def default_error_scale(error: np.ndarray, target: str, *, percentile: float = 80.0) -> float:
    """The smallest of :data:`ERROR_SCALES` that covers ``percentile`` % of the |error| in the head.

    80 % rather than the maximum: bone edges and sinuses are off by 500-1000 HU in a good synthetic CT,
    and a scale set by them would hide every soft-tissue and lesion error; they saturate instead.
    """
    values = np.abs(error[np.isfinite(error)])
    needed = float(np.percentile(values, percentile)) if values.size else 0.0
    scales = ERROR_SCALES[target]
    return next((scale for scale in scales if scale >= needed), scales[-1])


def compare(generated: Mapping[str, Volume], case: Case, target: str) -> dict[str, GenerationMetrics]:
    """Metrics of every generated volume against the case's real ``target`` (empty without a real target)."""
    real = real_target(case, target)
    if real is None:
        return {}
    head, brain = case_head_mask(case), case_brain_mask(case)
    real_ct = case.ct.array if case.ct is not None else None
    return {
        name: generation_metrics(volume.array, real.array, head, target=target, real_ct=real_ct, brain=brain)
        for name, volume in generated.items()
    }


def metrics_table(metrics: Mapping[str, GenerationMetrics], target: str) -> pd.DataFrame:
    """One row per model with readable column names and units (columns that are all NaN dropped)."""
    unit = "HU" if target == "CT" else "× real MR p99"
    names = {
        "mae": f"MAE ({unit})",
        "psnr_db": "PSNR (dB)",
        "ssim": "SSIM",
        "bone_dice": "bone Dice",
        "mae_bone": f"MAE bone ({unit})",
        "mae_soft_tissue": f"MAE soft tissue ({unit})",
        "mae_brain": f"MAE brain ({unit})",
    }
    table = pd.DataFrame({name: m.as_row() for name, m in metrics.items()}).T.rename(columns=names)
    table.index.name = "model"
    return table.dropna(axis=1, how="all")


def fit_baseline(*, spec: str = BASELINE_SPEC, n_subjects: int = 2) -> TissueClassMapper:
    """The tissue-class MR->CT baseline fitted on the first subjects of ``spec`` (never the demo people)."""
    cohort = get_cohort_spec(spec)
    mr, ct, head = [], [], []
    for index in range(n_subjects):
        subject = cohort.subject(index)
        mr.append(mr_to_unit(subject.mr_on_ct_grid().array)[0])
        ct.append(subject.ct.array)
        head.append(subject.masks["head"].array > 0.5)
    return fit_tissue_mapper(np.concatenate(mr), np.concatenate(ct), np.concatenate(head))


def baseline_ct(mapper: TissueClassMapper, mr: Volume) -> Volume:
    """The baseline's synthetic CT (HU) of an MR on its own grid (air outside the MR's head mask)."""
    array = mapper.predict(mr_to_unit(mr.array)[0], mr_head_mask(mr.array))
    return mr.with_array(array, modality="CT", name="CT from the tissue-class baseline")


@dataclasses.dataclass(frozen=True)
class CycleResult:
    """MR -> synthetic CT -> synthetic MR, compared with the input MR (all on the 0..1000 MR scale).

    Attributes:
        synthetic_ct: the forward model's CT (HU).
        cycled_mr: the backward model's MR from that CT.
        residual: cycled_mr - input MR inside the head, NaN outside.
        mean_abs: mean |residual| inside the head.
    """

    synthetic_ct: Volume
    cycled_mr: Volume
    residual: Volume
    mean_abs: float


def cycle_residual(synthetic_ct: Volume, cycled_mr: Volume, mr: Volume, head: np.ndarray) -> CycleResult:
    """The cycle residual of an MR given its synthetic CT and the MR generated back from it."""
    residual = signed_error(cycled_mr, mr_on_generated_scale(mr), head)
    return CycleResult(synthetic_ct, cycled_mr, residual, float(np.nanmean(np.abs(residual.array))))


@dataclasses.dataclass(frozen=True)
class LesionContrast:
    """How a lesion stands out from the brain around it, on the real and on the synthetic CT.

    Attributes:
        lesion_type: e.g. "calcified" (the phantom's truth).
        real_hu: mean HU in the lesion minus mean HU in a ring of brain around it, on the real CT.
        synthetic_hu: the same on the synthetic CT.
        slice_index: the axial index through the lesion's largest cross-section.
    """

    lesion_type: str
    real_hu: float
    synthetic_hu: float
    slice_index: int

    @property
    def recovered(self) -> float:
        """Fraction of the real contrast the synthetic CT shows (can be < 0 or > 1)."""
        return self.synthetic_hu / self.real_hu if abs(self.real_hu) > 1e-6 else float("nan")


def lesion_contrast(case: Case, synthetic_ct: Volume, *, ring_mm: float = 4.0) -> LesionContrast | None:
    """The lesion's CT contrast on the real and the synthetic CT, from the case's truth (None without a lesion)."""
    if case.ct is None or "lesion" not in case.masks or not (case.masks["lesion"].array > 0.5).any():
        return None
    lesion = case.masks["lesion"].array > 0.5
    steps = max(1, round(ring_mm / min(case.ct.spacing)))
    ring = ndimage.binary_dilation(lesion, iterations=steps) & ~lesion
    brain = case_brain_mask(case)
    ring = ring & brain if brain is not None and (ring & brain).any() else ring

    def contrast(array: np.ndarray) -> float:
        return float(array[lesion].mean() - array[ring].mean())

    index = int(lesion.sum(axis=(1, 2)).argmax())
    kind = str(case.meta.get("lesion_type", "lesion"))
    return LesionContrast(kind, contrast(case.ct.array), contrast(synthetic_ct.array), index)


WHATIF_INPUTS: dict[str, tuple[str, ...]] = {"CT alone": ("CT",), "MR alone": ("MR",), "CT + MR": ("CT", "MR")}


def whatif_volumes(case: Case, given: tuple[str, ...]) -> dict[str, Volume]:
    """The scans a what-if feeds the model: the CT and/or every MR weighting."""
    return {name: volume for source in given for name, volume in source_volumes(case, source).items()}


@dataclasses.dataclass(frozen=True)
class PosteriorMaps:
    """Posterior variance maps of a spatial-latent VAE for several sets of inputs.

    Attributes:
        maps: label -> (z, y, x) mean variance over ``channels`` per latent location, on the input grid.
        channels: the active latent channels averaged (``explain.uncertainty.active_channels``).
        n_channels: how many latent channels the model has.
    """

    maps: dict[str, Volume]
    channels: tuple[int, ...]
    n_channels: int


def posterior_variance_maps(model, inputs: Mapping[str, Mapping[str, Volume]]) -> PosteriorMaps | None:
    """:func:`~fusion_core.explain.uncertainty.posterior_variance` for each set of ``inputs`` (label -> volumes).

    The active channels are chosen once, on the LAST set of inputs (give every scan last), so the
    maps compare; with every scan given, each map equals the Attention page's map of those scans.

    Returns:
        None when the model is not a VAE with a spatial latent.
    """
    model = as_loaded(model)
    if not has_spatial_latent(model):
        return None
    labels = list(inputs)
    last = posterior_variance(model, inputs[labels[-1]])
    maps = {label: posterior_variance(model, inputs[label], channels=last.channels) for label in labels[:-1]}
    maps[labels[-1]] = last
    named = {
        label: maps[label].volume.with_array(maps[label].volume.array, name=f"posterior variance · {label}")
        for label in labels
    }
    return PosteriorMaps(named, last.channels, last.n_channels)
