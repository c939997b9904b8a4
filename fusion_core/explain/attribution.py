"""Attributions of the lesion classifiers on the image grid: Grad-CAM, Integrated Gradients, modality ablation.

Every function works on a private deep copy of the network (:func:`private_network`): captum's hooks,
gradients and the dropout switched on for MC sampling never touch the shared cached model, so two
sessions can explain the same model at once. captum is imported lazily (``pip install captum``).
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Mapping
from enum import StrEnum

import numpy as np
import torch
from torch import nn

from fusion_core.errors import FusionError
from fusion_core.explain.maps import on_grid
from fusion_core.inference.inputs import (
    check_volumes,
    crop_fraction,
    network_tensors,
    reference_volume,
    require_task,
)
from fusion_core.inference.loading import LoadedModel, as_loaded
from fusion_core.inference.registry import ModelInputError
from fusion_core.volume import Volume

TENSOR_CACHE_SIZE = 4  # (model, volumes) pairs whose network tensors are kept: one page's few models
_TENSORS: OrderedDict[tuple, tuple] = OrderedDict()
_TENSORS_LOCK = threading.Lock()
IG_STEPS = 32  # Riemann steps of Integrated Gradients: completeness error well under 1 % of the logit change


class Method(StrEnum):
    """Attribution method: Grad-CAM on an encoder's convolution, or Integrated Gradients on the pixels."""

    GRADCAM = "gradcam"
    INTEGRATED_GRADIENTS = "integrated_gradients"


METHOD_LABELS = {
    Method.GRADCAM: "Grad-CAM (last convolution of each encoder)",
    Method.INTEGRATED_GRADIENTS: "Integrated Gradients (pixels, from an air baseline)",
}


def parse_method(method: str) -> Method:
    """The :class:`Method` named ``method``.

    Raises:
        FusionError: an unknown name (the message lists the choices).
    """
    try:
        return Method(method)
    except ValueError:
        raise FusionError(f"unknown attribution method {method!r}; choose one of {[m.value for m in Method]}") from None


def captum_attr():
    """captum.attr, or an error that says how to get it."""
    try:
        import captum.attr
    except ImportError:
        raise FusionError("attributions need captum: pip install captum") from None
    return captum.attr


def private_network(model: LoadedModel) -> nn.Module:
    """A deep copy of the network in eval mode: hooks, gradients and dropout on it never reach the shared model."""
    net = copy.deepcopy(model.network).eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


class LogitOf(nn.Module):
    """A classifier as captum wants it: positional modality tensors in, one number per slice out.

    Args:
        network: a FusionClassifier.
        modalities: the network modalities the positional inputs stand for, in order.
        output: "logit" (the fused logit) or "variance" (the predicted total variance of the logit).
    """

    def __init__(self, network: nn.Module, modalities: tuple[str, ...], output: str = "logit") -> None:
        super().__init__()
        self.network, self.modalities, self.output = network, modalities, output

    def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
        """One value per slice: the classifier's ``output`` for the modality tensors, in ``modalities`` order, as float."""
        out = self.network(dict(zip(self.modalities, tensors, strict=True)))
        return getattr(out, self.output).float()


def slice_inputs(model: LoadedModel, volumes: Mapping[str, Volume], slice_index: int):
    """(network tensors of one slice, modality -> (1, C, S, S), the reference volume) after the input checks."""
    require_task(model, ("classifier",), "attribution")
    grouped = check_volumes(model, volumes)
    ref = reference_volume(grouped)
    if not 0 <= slice_index < ref.shape[0]:
        raise ModelInputError(f"slice_index {slice_index} is outside 0..{ref.shape[0] - 1}")
    x = _cached_tensors(model, grouped)
    single = model.config.strategy.upper() if model.config.strategy in ("ct", "mr") else None
    if single and single not in x:
        raise ModelInputError(f"the {single}-only classifier needs its {model.card.describe_inputs()} input")
    return {m: t[slice_index : slice_index + 1].float().clone() for m, t in x.items() if single in (None, m)}, ref


def _cached_tensors(model: LoadedModel, grouped) -> dict[str, torch.Tensor]:
    """``network_tensors`` of whole volumes, kept for the last few (network, volumes) pairs.

    Scaling, cropping and resizing every slice of three volumes costs more than explaining one
    slice, and a page explains many slices of the same volumes. The key is object identity; the
    entry holds the network and volumes themselves, so an id cannot be reused while it is cached
    (volumes are immutable by convention throughout the core).
    """
    key = (id(model.network), tuple((m, tuple(id(v) for v in vols)) for m, vols in grouped.items()))
    with _TENSORS_LOCK:
        if key in _TENSORS:
            _TENSORS.move_to_end(key)
            return _TENSORS[key][0]
    x = network_tensors(model, grouped)
    with _TENSORS_LOCK:
        _TENSORS[key] = (x, model.network, grouped)
        while len(_TENSORS) > TENSOR_CACHE_SIZE:
            _TENSORS.popitem(last=False)
    return x


def encoder_depths(network: nn.Module) -> int:
    """How many Grad-CAM depths the encoders offer: the stem (0) and each stride-2 stage (1 .. n_down)."""
    return min(len(encoder.body) // 2 + 1 for encoder in network.encoders.values())


def gradcam_layer(encoder: nn.Module, depth: int | None) -> nn.Module:
    """The conv block whose output ends ``depth`` (0: the stem, full resolution; None: the last, coarsest)."""
    return encoder.body[-1 if depth is None else 2 * depth]


def gradcam_maps(
    network: nn.Module, x: dict[str, torch.Tensor], *, output: str = "logit", depth: int | None = None
) -> dict[str, torch.Tensor]:
    """Grad-CAM (ReLU'd) of ``output`` at one depth of every encoder (None: its last block), encoder name -> (s, s)."""
    attr = captum_attr()
    names = tuple(x)
    wrapper = LogitOf(network, names, output)
    inputs = tuple(x[m] for m in names)
    return {
        name: attr.LayerGradCam(wrapper, gradcam_layer(encoder, depth))
        .attribute(inputs, relu_attributions=True)[0, 0]
        .detach()
        for name, encoder in network.encoders.items()
    }


def gradcam_depths(model) -> int:
    """How many encoder depths :func:`attribution_map` can explain with Grad-CAM (depths 0 .. n - 1)."""
    return encoder_depths(as_loaded(model).network)


def check_depth(network: nn.Module, method: Method, depth: int | None) -> None:
    """Check that ``depth`` is a Grad-CAM depth of ``network``'s encoders (None: nothing to check).

    Raises:
        FusionError: a depth with a method other than Grad-CAM, or one outside the encoders' range.
    """
    if depth is None:
        return
    if method is not Method.GRADCAM:
        raise FusionError("only Grad-CAM explains a chosen encoder depth; Integrated Gradients explains the pixels")
    n = encoder_depths(network)
    if not 0 <= depth < n:
        raise FusionError(
            f"this classifier's encoders have Grad-CAM depths 0 (finest) to {n - 1} (coarsest), not {depth}"
        )


def per_modality(encoder_maps: dict[str, np.ndarray], modalities: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Encoder name -> map, as modality -> map (early fusion's one encoder explains both images)."""
    if "early" in encoder_maps:
        return {m: encoder_maps["early"] for m in modalities}
    return {m: encoder_maps[m] for m in modalities if m in encoder_maps}


def integrated_gradients(
    network: nn.Module, x: dict[str, torch.Tensor], *, steps: int = IG_STEPS
) -> tuple[dict[str, torch.Tensor], float]:
    """IG of the logit from an air baseline (each input's minimum), modality -> (C, S, S), and the completeness gap.

    The baseline is the darkest value of each input (air), so attributions answer "which pixels, being
    brighter than air, moved the logit". The gap is ``sum(attributions) - (logit(x) - logit(baseline))``.
    """
    attr = captum_attr()
    names = tuple(x)
    inputs = tuple(x[m] for m in names)
    baselines = tuple(torch.full_like(t, float(t.min())) for t in inputs)
    ig = attr.IntegratedGradients(LogitOf(network, names))
    result, delta = ig.attribute(
        inputs, baselines=baselines, n_steps=steps, internal_batch_size=steps, return_convergence_delta=True
    )
    return {m: a[0].detach() for m, a in zip(names, result, strict=True)}, float(delta.abs().max())


def attribution_map(
    model, volumes: Mapping[str, Volume], slice_index: int, *, method: str = "gradcam", depth: int | None = None
) -> dict[str, np.ndarray]:
    """Where a lesion classifier's decision on one slice comes from, per input modality, on the input grid.

    Args:
        model: a loaded classifier (``load_model``) or a FusionClassifier built in code.
        volumes: {"CT": ct, "MR-T1": t1, "MR-T2": t2} on one grid (``Case.aligned()``), or a subset.
        slice_index: the axial slice (index along z).
        method: "gradcam": Grad-CAM of the logit at each encoder's last convolution block (>= 0,
            coarse: one value per feature cell); "integrated_gradients": per-pixel Integrated
            Gradients of the logit from an air baseline, summed over the MR weightings (signed:
            positive pixels raise the lesion logit).
        depth: Grad-CAM only: which encoder depth to explain, 0 (the stem, full resolution) to
            ``n_down`` (the last block, coarsest); None (default): the last block.

    Returns:
        "CT" / "MR" -> (y, x) float32 map on the input grid (0 outside the model's crop window).
        Early fusion has one encoder, so its Grad-CAM is the same map for both.

    Raises:
        ModelInputError: not a classifier, inputs it cannot read, or a slice outside the volume.
        FusionError: unknown method, a depth the encoders do not have, or captum missing.
    """
    method = parse_method(method)
    model = as_loaded(model)
    x, ref = slice_inputs(model, volumes, slice_index)
    net, crop = private_network(model), crop_fraction(model)
    check_depth(net, method, depth)
    with torch.enable_grad():
        if method is Method.GRADCAM:
            cams = gradcam_maps(net, x, depth=depth)
            maps = per_modality({k: v.cpu().numpy() for k, v in cams.items()}, tuple(x))
        else:
            maps = {m: a.sum(0).cpu().numpy() for m, a in integrated_gradients(net, x)[0].items()}
    return {m: on_grid(a, ref.shape[1:], crop) for m, a in maps.items()}


def modality_importance(model, volumes: Mapping[str, Volume], slice_index: int) -> dict[str, float]:
    """Ablation of a whole modality: how much the lesion probability of a slice drops when it is removed.

    A removed modality goes through the model's own missing-input path (a zero image for the fused
    strategies, left out of the product or the average for PoE and late fusion), as at test time; a
    single-modality model's only input is replaced by a zero image.

    Returns:
        "CT" / "MR" -> p(all inputs) - p(without that modality); positive = that modality argued for a lesion.
    """
    model = as_loaded(model)
    x, _ = slice_inputs(model, volumes, slice_index)
    net = private_network(model)
    with torch.inference_mode():
        full = torch.sigmoid(net(x).logit.float())
        drops = {m: full - torch.sigmoid(net(_without(x, m)).logit.float()) for m in x}
    return {m: float(d[0]) for m, d in drops.items()}


def _without(x: dict[str, torch.Tensor], modality: str) -> dict[str, torch.Tensor]:
    if len(x) == 1:
        return {modality: torch.zeros_like(x[modality])}
    return {k: v for k, v in x.items() if k != modality}
