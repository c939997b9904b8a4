"""Run shipped or trained models on Volumes: load, encode, impute a missing modality, classify, attention.

All functions take a dict ``{"CT": ct, "MR": mr}`` (any subset the model accepts; MR weightings
such as "MR-T1" count as "MR") of volumes that are ALREADY ON ONE COMMON GRID: the MR resampled
onto the CT grid by registration (``fusion_core.registration``) or by the phantom's
``true_transform`` (``PhantomSubject.mr_on_ct_grid()``). Volumes on different grids are refused
with :class:`ModelInputError`. A classifier trained on a centre crop of the field of view
(``config.crop_fraction`` < 1, saved beside its weights) gets the same crop of every slice.
Volumes whose in-plane size differs from the model's are resized slice-wise to the model's size
(area averaging when shrinking, bilinear when enlarging) and results are resized back onto the
input grid (and pasted back into the uncropped field of view). Slices are processed in batches under
``torch.inference_mode()``; on CUDA the data stay on the GPU and run under bf16 autocast.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from fusion_core.datasets import (
    TOP_K,
    crop_window,
    ct_to_unit,
    mr_to_unit,
    neighbour_indices,
    network_slices,
    uncrop_slices,
    unit_to_ct,
)
from fusion_core.devices import autocast, select_device
from fusion_core.errors import FusionError
from fusion_core.volume import Volume, is_mr, normalise_modality

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets" / "models"
MR_DISPLAY_RANGE = 1000.0

__all__ = [
    "ASSETS_DIR",
    "ClassificationResult",
    "ModelInputError",
    "attention_maps",
    "classify",
    "encode",
    "impute",
    "lesion_maps",
    "list_models",
    "load_model",
    "select_device",
]


class ModelInputError(FusionError):
    """Volumes that do not fit a model (modality, grid, size, target)."""


@dataclasses.dataclass(frozen=True)
class ClassificationResult:
    """Lesion-presence prediction for one subject.

    Attributes:
        probability: subject-level probability in [0, 1]: mean of the ``top_k`` highest slice probabilities.
        uncertainty: standard deviation of that probability (delta method on the slices' logit
            variance: MC-dropout epistemic + predicted aleatoric), in probability units.
        slice_probabilities: (n_slices,) per-slice probability.
        slice_variance: (n_slices,) per-slice total logit variance.
        top_slices: indices of the ``top_k`` slices that make up the subject probability.
        candidate_slices: the slices the top-k was taken over: those cutting through the brain
            as the classifier's training slices did (see ``classify``).
        strategy: the model's fusion strategy.
        modalities: the modalities that were used.
        mc_samples: MC-dropout passes used.
    """

    probability: float
    uncertainty: float
    slice_probabilities: np.ndarray
    slice_variance: np.ndarray
    top_slices: np.ndarray
    candidate_slices: np.ndarray
    strategy: str
    modalities: tuple[str, ...]
    mc_samples: int


def list_models(assets_dir: str | Path = ASSETS_DIR) -> list[str]:
    """Names of the shipped models (folders of ``assets_dir`` holding a model_card.json), sorted."""
    root = Path(assets_dir)
    return sorted(p.parent.name for p in root.glob("*/model_card.json")) if root.is_dir() else []


def load_model(name_or_dir: str | Path, *, device: str | torch.device | None = None) -> nn.Module:
    """Load a shipped model by name (see ``list_models``) or any checkpoint folder, in eval mode.

    The returned module carries ``.card`` (the model card dict, {} when absent) and ``.source``.

    Raises:
        ModelInputError: the name is neither a shipped model nor a checkpoint folder.
    """
    from fusion_core.training.checkpoint import load_model_dir

    path = Path(name_or_dir)
    if not (path / "config.json").is_file():
        path = ASSETS_DIR / str(name_or_dir)
    if not (path / "config.json").is_file():
        raise ModelInputError(f"no model {str(name_or_dir)!r}: not a checkpoint folder and not one of {list_models()}")
    model = load_model_dir(path, device=device or select_device())
    card_path = path / "model_card.json"
    model.card = json.loads(card_path.read_text()) if card_path.is_file() else {}
    model.source = str(path)
    return model


def model_modality(volume: Volume) -> str:
    """'CT' or 'MR' for a volume's modality."""
    name = normalise_modality(volume.modality)
    if name == "CT":
        return "CT"
    if is_mr(name):
        return "MR"
    raise ModelInputError(f"volume {volume.name or ''!r} has modality {volume.modality!r}; models take CT or MR")


def check_volumes(model: nn.Module, volumes: Mapping[str, Volume]) -> dict[str, Volume]:
    """Map volumes to the model's modality names and check they fit (modality, common grid, 3-D)."""
    if not volumes:
        raise ModelInputError("no volume given: pass at least one of {'CT': ..., 'MR': ...}")
    out: dict[str, Volume] = {}
    for key, vol in volumes.items():
        m = model_modality(vol) if normalise_modality(key) not in ("CT", "MR") else normalise_modality(key)
        if m not in model.modalities:
            raise ModelInputError(f"this model takes {list(model.modalities)}, not {m}")
        out[m] = vol
    first, *rest = out.values()
    for other in rest:
        if not first.same_grid(other):
            raise ModelInputError(
                "CT and MR are not on one grid: resample the MR onto the CT grid first "
                "(fusion_core.registration.register_rigid or the phantom's mr_on_ct_grid())"
            )
    return out


def image_size(model: nn.Module) -> int:
    cfg = model.config
    return cfg.encoder.image_size if hasattr(cfg, "encoder") else cfg.image_size


def crop_fraction(model: nn.Module) -> float:
    """In-plane centre crop the model was trained on (1.0 = whole field of view)."""
    return float(getattr(model.config, "crop_fraction", 1.0))


def input_channels(model: nn.Module) -> int:
    """Channels per modality the model reads: 1, or 2k+1 for a 2.5-D model (k neighbours each side)."""
    return int(getattr(getattr(model.config, "encoder", None), "in_channels", 1))


def to_network(model: nn.Module, volumes: Mapping[str, Volume], device: torch.device) -> dict[str, torch.Tensor]:
    """Scaled, centre-cropped (see ``crop_fraction``), resized slices as (n, C, S, S) tensors on ``device``.

    C is 1, or 2k+1 for a 2.5-D model: each slice with its k neighbours on either side (ends repeat).
    """
    size, channels = image_size(model), input_channels(model)
    out = {}
    for m, vol in volumes.items():
        unit = ct_to_unit(vol.array) if m == "CT" else mr_to_unit(vol.array)[0]
        net = network_slices(unit, size, crop_fraction(model))
        stacked = net[neighbour_indices(np.arange(len(net)), (channels - 1) // 2, len(net))]  # (n, C, S, S)
        out[m] = torch.from_numpy(stacked).to(device)
    return out


def from_network(slices: torch.Tensor, like: Volume, *, crop: float = 1.0) -> np.ndarray:
    """(n, C, S, S) network output -> (z, y, x) on the grid of ``like`` (the centre channel when C > 1).

    Bilinear resize back to the ``crop`` window, pasted into the centre of the full grid (zeros outside).
    """
    arr = slices[:, slices.shape[1] // 2].float().cpu().numpy()
    full = like.shape[1:]
    ys, xs = crop_window(full, crop)
    ny, nx = ys.stop - ys.start, xs.stop - xs.start
    if arr.shape[1:] != (ny, nx):
        t = torch.from_numpy(arr).unsqueeze(1)
        arr = torch.nn.functional.interpolate(t, size=(ny, nx), mode="bilinear", align_corners=False)[:, 0].numpy()
    return arr if (ny, nx) == full else uncrop_slices(arr, full, crop)


def device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def run_batched(fn, inputs: dict[str, torch.Tensor], batch_size: int) -> list[Any]:
    """Call ``fn`` on consecutive slice batches of ``inputs`` under inference mode (and autocast on CUDA)."""
    n = next(iter(inputs.values())).shape[0]
    device = next(iter(inputs.values())).device
    results = []
    with torch.inference_mode(), autocast(device):
        for start in range(0, n, batch_size):
            results.append(fn({m: x[start : start + batch_size] for m, x in inputs.items()}))
    return results


def require_task(model: nn.Module, allowed: tuple[str, ...], what: str) -> str:
    from fusion_core.models import task_of

    task = task_of(model).value
    if task not in allowed:
        raise ModelInputError(f"{what} needs a {' or '.join(allowed)} model, got a {task}")
    return task


def encode(model: nn.Module, volumes: Mapping[str, Volume], *, batch_size: int = 64) -> np.ndarray:
    """Latent means of every slice from any subset of modalities.

    Args:
        model: a VAE, or a classifier with the "poe" strategy (its PoE latent).
        volumes: {"CT": ct, "MR": mr} on a common grid; one alone works; ``{}`` is refused.

    Returns:
        (n_slices, latent_dim) float32.
    """
    task = require_task(model, ("vae", "classifier"), "encode")
    if task == "classifier" and model.config.strategy != "poe":
        raise ModelInputError(f"encode needs a VAE or the 'poe' classifier, not strategy {model.config.strategy!r}")
    vols = check_volumes(model, volumes)
    x = to_network(model, vols, device_of(model))
    parts = run_batched(lambda b: model(b).mu.float(), x, batch_size)
    return torch.cat(parts).cpu().numpy()


def impute(model: nn.Module, volumes: Mapping[str, Volume], target: str, *, batch_size: int = 64) -> Volume:
    """Generate the ``target`` modality ("CT" or "MR") from the given one(s), on the input's grid.

    A VAE decodes the PoE latent of whatever is given (a reconstruction when ``target`` is among
    the inputs); a translator maps its single input. CT comes back in HU; MR in arbitrary units
    0..1000 (the network's within-head normalised scale).

    Raises:
        ModelInputError: wrong model task, unknown target, translator given the target itself.
    """
    task = require_task(model, ("vae", "translator"), "impute")
    target = "MR" if is_mr(normalise_modality(target)) else normalise_modality(target)
    if target not in model.modalities:
        raise ModelInputError(f"target must be one of {list(model.modalities)}, got {target!r}")
    vols = check_volumes(model, volumes)
    if task == "translator":
        sources = [m for m in vols if m != target]
        if len(sources) != 1:
            raise ModelInputError(
                f"the translator maps one modality to the other: give exactly the non-{target} volume"
            )
        vols = {sources[0]: vols[sources[0]]}
    x = to_network(model, vols, device_of(model))
    if task == "vae":
        parts = run_batched(lambda b: model(b).recon[target].float(), x, batch_size)
    else:
        parts = run_batched(lambda b: model.translate(next(iter(b.values())), target).float(), x, batch_size)
    ref = next(iter(vols.values()))
    unit = from_network(torch.cat(parts), ref)
    array = (
        unit_to_ct(unit) if target == "CT" else ((np.clip(unit, -1, 1) + 1) / 2 * MR_DISPLAY_RANGE).astype(np.float32)
    )
    return ref.with_array(
        array, modality="CT" if target == "CT" else "MR-T1", name=f"{target} imputed from {'+'.join(vols)}"
    )


def training_brain_fraction(model: nn.Module) -> float:
    """``min_brain_fraction`` of the data the classifier was trained on (0 when unknown)."""
    data = getattr(model, "card", {}).get("trainer", {}).get("data", {})
    return float(data.get("min_brain_fraction", 0.0))


def classify(
    model: nn.Module,
    volumes: Mapping[str, Volume],
    *,
    mc_samples: int = 8,
    batch_size: int = 64,
    top_k: int = TOP_K,
    candidate_slices: np.ndarray | None = None,
) -> ClassificationResult:
    """Subject-level lesion probability and its uncertainty from a fusion classifier.

    Every slice gets a probability; the subject probability is the mean of the ``top_k`` highest
    among the candidate slices. By default the candidates are the slices that cut through the
    brain the way the classifier's training slices did: estimated intracranial area at least the
    training data's ``min_brain_fraction`` of the largest (``fusion_core.preprocess.brain``, from
    the CT when given, else the MR), so neck and vertex slices the model never saw cannot decide.

    Args:
        model: a classifier; strategies "poe", "late", "uncertainty-late" and "hybrid" accept a
            missing modality natively; the others see a missing modality as a zero image.
        volumes: {"CT": ct, "MR": mr} on a common grid (or one of them).
        mc_samples: MC-dropout passes of the heads (1 = deterministic, no epistemic part).
        top_k: the subject probability is the mean of the ``top_k`` highest slice probabilities.
        candidate_slices: slice indices to take the top-k over, instead of the estimate (e.g. from
            a known brain mask).
    """
    require_task(model, ("classifier",), "classify")
    vols = check_volumes(model, volumes)
    if model.config.strategy in ("ct", "mr") and model.config.strategy.upper() not in vols:
        raise ModelInputError(
            f"the {model.config.strategy.upper()}-only classifier needs a {model.config.strategy.upper()} volume"
        )
    x = to_network(model, vols, device_of(model))
    parts = run_batched(
        lambda b: torch.stack([(o := model(b, mc_samples=mc_samples)).logit.float(), o.variance.float()]), x, batch_size
    )
    logit, variance = torch.cat(parts, dim=1).cpu().numpy()
    probs = 1.0 / (1.0 + np.exp(-logit))
    candidates = _candidates(model, vols, candidate_slices, len(probs))
    order = candidates[np.argsort(probs[candidates])[::-1]]
    top = order[: max(1, min(top_k, len(order)))]
    p = float(probs[top].mean())
    sd = float(np.mean(probs[top] * (1 - probs[top]) * np.sqrt(variance[top])))
    return ClassificationResult(
        p, sd, probs, variance, np.sort(top), candidates, model.config.strategy, tuple(vols), mc_samples
    )


def _candidates(model: nn.Module, vols: Mapping[str, Volume], given: np.ndarray | None, n: int) -> np.ndarray:
    """Sorted slice indices the subject score is taken over (never empty)."""
    from fusion_core.preprocess.brain import brain_slices

    if given is not None:
        idx = np.unique(np.asarray(given, dtype=np.int64))
        if idx.size == 0 or idx.min() < 0 or idx.max() >= n:
            raise ModelInputError(f"candidate_slices must be non-empty indices within 0..{n - 1}")
        return idx
    idx = brain_slices(vols.get("CT", next(iter(vols.values()))), training_brain_fraction(model))
    return idx if idx.size else np.arange(n)


def lesion_maps(model: nn.Module, volumes: Mapping[str, Volume], *, batch_size: int = 64) -> dict[str, Volume]:
    """Each encoder's coarse lesion-probability map (0..1), resized onto the input grid.

    Only for classifiers trained with ``lesion_maps``: the maps come from a 1x1-convolution head on
    each encoder's feature grid (``image_size / 2**n_down`` cells across the model's crop window),
    so they localise to a few millimetres; outside the crop window the probability is 0.

    Returns:
        encoder name ("CT", "MR", or "early" for early fusion) -> Volume on the input grid.
    """
    require_task(model, ("classifier",), "lesion_maps")
    if not getattr(model.config, "lesion_maps", False):
        raise ModelInputError(f"model {getattr(model, 'source', '')!r} has no lesion-map heads")
    vols = check_volumes(model, volumes)
    x = to_network(model, vols, device_of(model))
    parts = run_batched(lambda b: {k: torch.sigmoid(v.float()) for k, v in model(b).lesion_maps.items()}, x, batch_size)
    ref = next(iter(vols.values()))
    return {
        k: ref.with_array(
            from_network(torch.cat([p[k] for p in parts]), ref, crop=crop_fraction(model)).astype(np.float32),
            modality="UNKNOWN",  # a probability map, like the phantom's masks
            name=f"lesion probability ({k})",
        )
        for k in parts[0]
    }


def attention_maps(model: nn.Module, volumes: Mapping[str, Volume], slice_index: int) -> dict[str, np.ndarray]:
    """Cross-modal attention of one slice from the "intermediate-attention" classifier.

    Returns:
        {"CT->MR": w, "MR->CT": w}, each (h, w, h, w) float32: ``w[i, j]`` is the map over the
        other modality's (h, w) feature grid that query location (i, j) attends to (rows sum to 1).
        The feature grid covers the model's input window uniformly: the central ``crop_fraction``
        of the slice's field of view (each cell = image_size / h network pixels).
    """
    require_task(model, ("classifier",), "attention_maps")
    if model.config.strategy != "intermediate-attention":
        raise ModelInputError(
            f"attention maps need the 'intermediate-attention' classifier, not {model.config.strategy!r}"
        )
    vols = check_volumes(model, volumes)
    if set(vols) != set(model.modalities):
        raise ModelInputError("attention maps need both CT and MR")
    n = next(iter(vols.values())).shape[0]
    if not 0 <= slice_index < n:
        raise ModelInputError(f"slice_index {slice_index} is outside 0..{n - 1}")
    x = {m: t[slice_index : slice_index + 1] for m, t in to_network(model, vols, device_of(model)).items()}
    (att,) = run_batched(lambda b: model(b).attention, x, 1)
    h = model.config.encoder.feature_size
    return {k: v[0].float().cpu().numpy().reshape(h, h, h, h) for k, v in att.items()}
