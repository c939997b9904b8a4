"""What the classifiers look at, mapped back onto the image grid: lesion-map heads and cross-modal attention."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from fusion_core.inference.inputs import (
    check_volumes,
    crop_fraction,
    from_network,
    network_tensors,
    reference_volume,
    require_task,
    run_batched,
)
from fusion_core.inference.loading import as_loaded
from fusion_core.inference.registry import ModelInputError
from fusion_core.preprocess.slices import crop_window, resize_slices
from fusion_core.volume import Volume


def lesion_maps(model, volumes: Mapping[str, Volume], *, batch_size: int = 64) -> dict[str, Volume]:
    """Each encoder's coarse lesion-probability map (0..1), resized onto the input grid.

    Only for classifiers trained with ``lesion_maps``: the maps come from a 1x1-convolution head on
    each encoder's feature grid (``image_size / 2**n_down`` cells across the model's crop window),
    so they localise to a few millimetres; outside the crop window the probability is 0.

    Returns:
        encoder name ("CT", "MR", or "early" for early fusion) -> Volume on the input grid.
    """
    model = as_loaded(model)
    require_task(model, ("classifier",), "lesion_maps")
    if not getattr(model.config, "lesion_maps", False):
        raise ModelInputError(f"model {model.name!r} has no lesion-map heads")
    grouped = check_volumes(model, volumes)
    x = network_tensors(model, grouped)
    parts = run_batched(
        lambda b: {k: torch.sigmoid(v.float()) for k, v in model.network(b).lesion_maps.items()}, x, batch_size
    )
    ref = reference_volume(grouped)
    return {
        k: ref.with_array(
            from_network(torch.cat([p[k] for p in parts]), ref, crop=crop_fraction(model)).astype(np.float32),
            modality="UNKNOWN",  # a probability map, like the phantom's masks
            name=f"lesion probability ({k})",
        )
        for k in parts[0]
    }


def attention_maps(model, volumes: Mapping[str, Volume], slice_index: int) -> dict[str, np.ndarray]:
    """Cross-modal attention of one slice from the "intermediate-attention" classifier, as token grids.

    Returns:
        {"CT->MR": w, "MR->CT": w}, each (h, w, h, w) float32: ``w[i, j]`` is the map over the
        other modality's (h, w) feature grid that query location (i, j) attends to (sums to 1).
        The feature grid covers the model's input window uniformly: the central ``crop_fraction``
        of the slice's field of view. :func:`attention_on_grid` maps one query onto the image grid.
    """
    model = as_loaded(model)
    require_task(model, ("classifier",), "attention_maps")
    if model.config.strategy != "intermediate-attention":
        raise ModelInputError(
            f"attention maps need the 'intermediate-attention' classifier, not {model.config.strategy!r}"
        )
    grouped = check_volumes(model, volumes)
    if set(grouped) != {"CT", "MR"}:
        raise ModelInputError("attention maps need both CT and MR")
    n = reference_volume(grouped).shape[0]
    if not 0 <= slice_index < n:
        raise ModelInputError(f"slice_index {slice_index} is outside 0..{n - 1}")
    x = {m: t[slice_index : slice_index + 1] for m, t in network_tensors(model, grouped).items()}
    (att,) = run_batched(lambda b: model.network(b).attention, x, 1)
    h = model.config.encoder.feature_size
    return {k: v[0].float().cpu().numpy().reshape(h, h, h, h) for k, v in att.items()}


def attention_on_grid(
    weights: np.ndarray, query_yx: tuple[int, int], shape: tuple[int, int], crop: float
) -> np.ndarray:
    """One query's attention map on the (y, x) image grid of a slice.

    Args:
        weights: (h, w, h, w) from :func:`attention_maps`.
        query_yx: the query location in image pixels (y, x) of the slice.
        shape: (ny, nx) of the slice.
        crop: the model's crop fraction.

    Returns:
        (ny, nx) float32 attention (0 outside the model's window); the query outside the window
        gives all zeros.
    """
    h = weights.shape[0]
    ys, xs = crop_window(shape, crop)
    y, x = query_yx
    if not (ys.start <= y < ys.stop and xs.start <= x < xs.stop):
        return np.zeros(shape, dtype=np.float32)
    qi = min(h - 1, (y - ys.start) * h // (ys.stop - ys.start))
    qj = min(h - 1, (x - xs.start) * h // (xs.stop - xs.start))
    return np.clip(on_grid(weights[qi, qj], shape, crop), 0, None)


def on_grid(map_2d: np.ndarray, shape: tuple[int, int], crop: float) -> np.ndarray:
    """A (h, w) map over the model's input window -> (ny, nx) float32 on the slice grid (0 outside the window)."""
    ys, xs = crop_window(shape, crop)
    window = resize_slices(
        np.asarray(map_2d, dtype=np.float32)[None], (ys.stop - ys.start, xs.stop - xs.start), mode="bilinear"
    )
    out = np.zeros(shape, dtype=np.float32)
    out[ys, xs] = window[0]
    return out
