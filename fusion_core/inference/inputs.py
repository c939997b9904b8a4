"""From volumes to network tensors and back: the input check every task shares.

Volumes are given as ``{"CT": ct, "MR-T1": t1, "MR-T2": t2}`` (``"MR"`` means the T1), ALREADY
ON ONE COMMON GRID: the MR resampled onto the CT grid (``Case.aligned()``). Volumes on different
grids are refused. A network reads "CT" and "MR" inputs; its "MR" input stacks the MR weightings
it was trained with as channels (T1 alone, or T1 then T2), each scaled on its own. Slices are
centre-cropped to the model's ``crop_fraction``, resized to its size, processed in batches under
``torch.inference_mode()`` (bf16 autocast on CUDA), and results are resized back onto the input grid.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

from fusion_core.devices import autocast
from fusion_core.inference.loading import LoadedModel, as_loaded
from fusion_core.inference.registry import ModelInputError, normalise_input
from fusion_core.preprocess.network import ct_to_unit, mr_to_unit
from fusion_core.preprocess.slices import crop_window, neighbour_indices, network_slices, resize_slices, uncrop_slices
from fusion_core.volume import Volume

NetworkInputs = dict[str, list[Volume]]  # network modality ("CT" | "MR") -> volumes in channel order


def input_name(key: str, volume: Volume) -> str:
    """The model input a volume is given as: the key, made specific by the volume's own MR weighting."""
    name = normalise_input(key)
    if str(key).strip().upper() == "MR" and str(volume.modality).upper().startswith("MR-"):
        name = normalise_input(volume.modality)
    return name


def mr_weightings(model: LoadedModel) -> tuple[str, ...]:
    """The MR weightings the network's "MR" input stacks, e.g. ("MR-T1", "MR-T2")."""
    return tuple(f"MR-{w}" for w in getattr(model.config, "mr_weightings", ("T1",)))


def check_volumes(model: LoadedModel, volumes: Mapping[str, Volume]) -> NetworkInputs:
    """Group the given volumes by network input and check they fit (names, weightings, one grid, 3-D).

    Inputs the model does not read (a T2 for a T1 model) are left out.

    Raises:
        ModelInputError: nothing given, an unknown modality, an MR weighting the model needs missing,
            or volumes on different grids.
    """
    if not volumes:
        raise ModelInputError("no volume given: pass at least one of {'CT': ..., 'MR-T1': ...}")
    named: dict[str, Volume] = {}
    for key, volume in volumes.items():
        if volume is None:
            continue
        try:
            named[input_name(key, volume)] = volume
        except ValueError:
            raise ModelInputError(f"unknown modality {key!r}; models take CT, MR-T1 and MR-T2") from None
    grouped: NetworkInputs = {}
    if "CT" in named and "CT" in model.network.modalities:
        grouped["CT"] = [named["CT"]]
    wanted = mr_weightings(model)
    present = [w for w in wanted if w in named]
    if present and len(present) < len(wanted):
        missing = ", ".join(w for w in wanted if w not in named)
        raise ModelInputError(f"{model.name} reads {' + '.join(wanted)} as its MR input: {missing} is missing")
    if present and "MR" in model.network.modalities:
        grouped["MR"] = [named[w] for w in wanted]
    if not grouped:
        raise ModelInputError(f"{model.name} reads {model.card.describe_inputs()}; none of them was given")
    _check_one_grid([v for vols in grouped.values() for v in vols])
    return grouped


def _check_one_grid(volumes: list[Volume]) -> None:
    first, *rest = volumes
    if first.array.ndim != 3:
        raise ModelInputError(f"models need 3-D volumes, got shape {first.shape}")
    for other in rest:
        if not first.same_grid(other):
            raise ModelInputError(
                "CT and MR are not on one grid: align the MR to the CT first (Case.aligned(), or register it "
                "on the Register & Fuse page)"
            )


def image_size(model: LoadedModel) -> int:
    """In-plane size in pixels of the slices the model reads."""
    config = model.config
    return config.encoder.image_size if hasattr(config, "encoder") else config.image_size


def crop_fraction(model: LoadedModel) -> float:
    """In-plane centre crop the model was trained on (1.0 = whole field of view)."""
    return float(getattr(model.config, "crop_fraction", 1.0))


def neighbours(model: LoadedModel) -> int:
    """Return k of a 2.5-D model (each slice with k neighbours each side as channels); 0 for 2-D."""
    return (int(getattr(getattr(model.config, "encoder", None), "in_channels", 1)) - 1) // 2


def _scaled(network_modality: str, volume: Volume) -> np.ndarray:
    return ct_to_unit(volume.array) if network_modality == "CT" else mr_to_unit(volume.array)[0]


def to_network(model, volumes: Mapping[str, Volume]) -> dict[str, torch.Tensor]:
    """The network's input tensors for ``volumes`` (checked by :func:`check_volumes`); see :func:`network_tensors`."""
    model = as_loaded(model)
    return network_tensors(model, check_volumes(model, volumes))


def network_tensors(model: LoadedModel, grouped: NetworkInputs) -> dict[str, torch.Tensor]:
    """Scaled, centre-cropped, resized slices as (n, C, S, S) tensors on the model's device.

    C = (2k+1) per volume: each slice with its k neighbours on either side (ends repeat), the MR
    weightings one after the other.
    """
    size, k, crop = image_size(model), neighbours(model), crop_fraction(model)
    out = {}
    for modality, vols in grouped.items():
        stacks = []
        for volume in vols:
            net = network_slices(_scaled(modality, volume), size, crop)
            stacks.append(net[neighbour_indices(np.arange(len(net)), k, len(net))])  # (n, 2k+1, S, S)
        out[modality] = torch.from_numpy(np.concatenate(stacks, axis=1)).to(model.device)
    return out


def from_network(slices: torch.Tensor, like: Volume, *, crop: float = 1.0) -> np.ndarray:
    """(n, C, S, S) network output -> (z, y, x) on the grid of ``like`` (the centre channel when C > 1).

    Bilinear resize back to the ``crop`` window, pasted into the centre of the full grid (zeros outside).
    """
    arr = slices[:, slices.shape[1] // 2].float().cpu().numpy()
    full = like.shape[1:]
    ys, xs = crop_window(full, crop)
    window = (ys.stop - ys.start, xs.stop - xs.start)
    if arr.shape[1:] != window:
        arr = resize_slices(arr, window, mode="bilinear")
    return arr if window == full else uncrop_slices(arr, full, crop)


def run_batched(
    fn: Callable[[dict[str, torch.Tensor]], Any],
    inputs: dict[str, torch.Tensor],
    batch_size: int,
    progress: Callable[[float], None] | None = None,
):
    """Call ``fn`` on consecutive slice batches of ``inputs`` under inference mode (and autocast on CUDA).

    ``progress`` (optional) is called with the fraction of slices done after each batch.
    """
    n = next(iter(inputs.values())).shape[0]
    device = next(iter(inputs.values())).device
    results = []
    with torch.inference_mode(), autocast(device):
        for start in range(0, n, batch_size):
            results.append(fn({m: x[start : start + batch_size] for m, x in inputs.items()}))
            if progress is not None:
                progress(min(start + batch_size, n) / n)
    return results


def require_task(model: LoadedModel, allowed: tuple[str, ...], what: str) -> None:
    """Check that the model's task is one of ``allowed``.

    Raises:
        ModelInputError: naming ``what`` needs, and what the model is.
    """
    if model.task not in allowed:
        raise ModelInputError(f"{what} needs a {' or '.join(allowed)} model; {model.name} is a {model.task}")


def reference_volume(grouped: NetworkInputs) -> Volume:
    """The grid every output is put back on (the CT when given)."""
    return (grouped.get("CT") or grouped["MR"])[0]
