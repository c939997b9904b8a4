"""Cross-modal attention per head and layer, and attention rollout across layers (Abnar & Zuidema 2020)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

from fusion_core.errors import FusionError
from fusion_core.explain.attribution import private_network, slice_inputs
from fusion_core.explain.maps import on_grid
from fusion_core.inference.loading import as_loaded
from fusion_core.inference.registry import ModelInputError
from fusion_core.volume import Volume

MEAN_OF_HEADS = -1  # head index meaning "the average over heads" (what the model itself reports)


def attention_rollout(layers: Sequence[np.ndarray], *, residual: bool = True, head: int = MEAN_OF_HEADS) -> np.ndarray:
    """Attention rollout: how much each output token draws on each input token through all layers.

    Each layer's attention is fused over heads (mean, or one ``head``), the residual path added as
    ``0.5 * A + 0.5 * I`` when ``residual`` (self-attention), rows renormalised, and the layers
    multiplied in order: ``R = A_L ... A_2 A_1``.

    Args:
        layers: per layer, (heads, N, N) or (N, N) row-stochastic attention (rows: queries).
        residual: add the identity for the residual connection (square layers only).
        head: a head index, or MEAN_OF_HEADS.

    Returns:
        (N_query_last, N_key_first) float64, rows summing to 1.

    Raises:
        FusionError: no layers, shapes that do not chain, or a head the layers do not have.
    """
    if not layers:
        raise FusionError("attention rollout needs at least one layer")
    result = None
    for i, layer in enumerate(layers):
        a = fuse_heads(np.asarray(layer, dtype=np.float64), head)
        if residual:
            if a.shape[0] != a.shape[1]:
                raise FusionError(f"layer {i}: the residual path needs square attention, got {a.shape}")
            a = 0.5 * a + 0.5 * np.eye(a.shape[0])
        a = a / np.clip(a.sum(1, keepdims=True), 1e-12, None)
        if result is not None and a.shape[1] != result.shape[0]:
            raise FusionError(f"layer {i} has {a.shape[1]} keys but the layer before it has {result.shape[0]} queries")
        result = a if result is None else a @ result
    return result


def fuse_heads(layer: np.ndarray, head: int) -> np.ndarray:
    """(heads, N, M) -> one head's (N, M), or the mean over heads; a (N, M) layer is returned as it is."""
    if layer.ndim == 2:
        return layer
    if head == MEAN_OF_HEADS:
        return layer.mean(0)
    if not 0 <= head < layer.shape[0]:
        raise FusionError(f"head {head} does not exist: the layer has heads 0..{layer.shape[0] - 1}")
    return layer[head]


def attention_layers(model, volumes: Mapping[str, Volume], slice_index: int) -> dict[str, list[np.ndarray]]:
    """Every cross-modal attention layer of one slice, per head, from the attention classifier.

    Returns:
        "CT->MR" / "MR->CT" -> one (heads, h, w, h, w) float32 array per layer, in order: ``w[k, i, j]``
        is head k's map over the other modality's (h, w) feature grid for query cell (i, j). The
        shipped classifier has one cross-attention layer per direction.
    """
    model = as_loaded(model)
    if model.config.strategy != "intermediate-attention":
        raise ModelInputError(f"attention needs the 'intermediate-attention' classifier, not {model.config.strategy!r}")
    x, _ = slice_inputs(model, volumes, slice_index)
    if set(x) != {"CT", "MR"}:
        raise ModelInputError("cross-modal attention needs both CT and MR")
    net = private_network(model)
    captured: dict[str, list[np.ndarray]] = {}
    hooks = [
        net.cross[m].register_forward_pre_hook(
            _per_head_hook(captured, f"{m}->{other}", net.config.encoder.feature_size)
        )
        for m, other in (("CT", "MR"), ("MR", "CT"))
    ]
    try:
        with torch.inference_mode():
            net(x)
    finally:
        for h in hooks:
            h.remove()
    return captured


def _per_head_hook(captured: dict[str, list[np.ndarray]], direction: str, size: int):
    """A pre-hook that recomputes the layer's attention without averaging the heads."""

    def hook(module, args):
        query, context = args
        _, w = module.attn(query, context, context, need_weights=True, average_attn_weights=False)
        captured.setdefault(direction, []).append(w[0].float().cpu().numpy().reshape(-1, size, size, size, size))

    return hook


def attention_view(layers: Sequence[np.ndarray], *, layer: int | None = None, head: int = MEAN_OF_HEADS) -> np.ndarray:
    """One (h, w, h, w) attention map from :func:`attention_layers`'s list: one layer, or the rollout (layer=None).

    Cross-modal layers have no residual to their own keys, so the rollout here is the product of
    the layers' attention alone; with one layer it is that layer.
    """
    h = layers[0].shape[-1]
    flat = [a.reshape(a.shape[0], h * h, h * h) for a in layers]
    if layer is not None:
        if not 0 <= layer < len(layers):
            raise FusionError(f"layer {layer} does not exist: the model has layers 0..{len(layers) - 1}")
        flat = [flat[layer]]
    return attention_rollout(flat, residual=False, head=head).astype(np.float32).reshape(h, h, h, h)


def attention_received(weights: np.ndarray, shape: tuple[int, int], crop: float) -> np.ndarray:
    """How much attention each location of the key image receives, averaged over all queries, on its (y, x) grid.

    Args:
        weights: (h, w, h, w) from :func:`attention_view` (queries first).
        shape: (ny, nx) of the slice.
        crop: the model's crop fraction.
    """
    return np.clip(on_grid(weights.mean((0, 1)), shape, crop), 0, None)
