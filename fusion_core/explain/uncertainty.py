"""How sure the models are, per pixel and per modality: MC-dropout and predicted variance of the classifiers'
evidence, the uncertainty-weighted fusion's weights, and the PoE VAE's posterior variance on the image grid."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping

import numpy as np
import torch

from fusion_core.explain.attribution import gradcam_maps, per_modality, private_network, slice_inputs
from fusion_core.explain.maps import on_grid
from fusion_core.inference import encode
from fusion_core.inference.inputs import check_volumes, crop_fraction, reference_volume
from fusion_core.inference.loading import as_loaded
from fusion_core.inference.registry import ModelInputError
from fusion_core.models.classifiers import precision_weights
from fusion_core.volume import Volume

MC_SAMPLES = 8
# Seeded draws use torch's global RNG (forked and restored): one session at a time, so two sessions'
# draws cannot interleave and each stays reproducible.
RNG_LOCK = threading.Lock()


@dataclasses.dataclass(frozen=True)
class EvidenceUncertainty:
    """Uncertainty of one slice's lesion decision, as numbers and as maps on the input grid.

    Attributes:
        epistemic: "CT"/"MR" -> (y, x) standard deviation of the Grad-CAM map over MC-dropout draws
            of the heads (where the evidence itself is unstable under the model's own uncertainty).
        aleatoric: "CT"/"MR" -> (y, x) Grad-CAM of the predicted variance of the logit (which image
            regions make the model predict a noisy answer).
        logit_epistemic: variance of the logit over the MC-dropout draws.
        logit_aleatoric: the heads' predicted (aleatoric) variance of the logit, dropout off.
        samples: MC-dropout draws used.
    """

    epistemic: dict[str, np.ndarray]
    aleatoric: dict[str, np.ndarray]
    logit_epistemic: float
    logit_aleatoric: float
    samples: int


def evidence_uncertainty(
    model, volumes: Mapping[str, Volume], slice_index: int, *, samples: int = MC_SAMPLES, seed: int = 0
) -> EvidenceUncertainty:
    """Epistemic (MC dropout) and aleatoric (predicted variance) uncertainty of a classifier on one slice.

    The lesion-map heads sit on the encoders, which have no dropout, so their MC-dropout variance
    is exactly zero; the epistemic map is therefore taken on the Grad-CAM of the decision, whose
    gradients pass through the dropout of the heads. Dropout is switched on in a private copy;
    the draws are seeded and the global torch RNG is left as it was.
    """
    model = as_loaded(model)
    x, ref = slice_inputs(model, volumes, slice_index)
    crop = crop_fraction(model)
    net = private_network(model)
    with torch.enable_grad():
        aleatoric = gradcam_maps(net, x, output="variance")
        with torch.inference_mode():
            logit_aleatoric = float(net(x).variance[0])
        for head in net.heads.values():
            head.train()  # dropout on in the copy only: MC dropout
        with RNG_LOCK, torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            draws = [gradcam_maps(net, x) for _ in range(samples)]
            with torch.inference_mode():
                logits = torch.stack([net(x).logit.float()[0] for _ in range(samples)])
    spread = {k: torch.stack([d[k] for d in draws]).std(0).cpu().numpy() for k in draws[0]}
    grid = lambda maps: {m: on_grid(a, ref.shape[1:], crop) for m, a in per_modality(maps, tuple(x)).items()}  # noqa: E731
    return EvidenceUncertainty(
        epistemic=grid(spread),
        aleatoric=grid({k: v.cpu().numpy() for k, v in aleatoric.items()}),
        logit_epistemic=float(logits.var(unbiased=True)) if samples > 1 else 0.0,
        logit_aleatoric=logit_aleatoric,
        samples=samples,
    )


def fusion_weights(
    model, volumes: Mapping[str, Volume], slice_index: int, *, mc_samples: int = MC_SAMPLES, seed: int = 0
) -> dict[str, float]:
    """The uncertainty-weighted late fusion's precision weight of each modality on one slice.

    ``w_i = (1/sigma_i^2) / sum_j (1/sigma_j^2)`` with sigma_i^2 = predicted + MC-dropout variance of
    branch i; a modality not given gets weight 0.

    Returns:
        "CT"/"MR" -> weight in [0, 1], summing to 1.

    Raises:
        ModelInputError: the model is not the uncertainty-weighted late fusion.
    """
    model = as_loaded(model)
    if model.config.strategy != "uncertainty-late":
        raise ModelInputError(f"fusion weights need the 'uncertainty-late' classifier, not {model.config.strategy!r}")
    x, _ = slice_inputs(model, volumes, slice_index)
    with RNG_LOCK, torch.random.fork_rng(devices=[]), torch.inference_mode():
        torch.manual_seed(seed)
        out = model.network(x, mc_samples=mc_samples)  # MC dropout via mc_samples: the shared model's mode is untouched
        w = precision_weights(out.branches, out.branch_mask)[0]
    return {name: float(w[i]) for i, name in enumerate(out.branches)}


def posterior_variance_map(model, volumes: Mapping[str, Volume], slice_index: int) -> np.ndarray:
    """The PoE VAE's posterior variance of one slice on the input grid (mean over latent channels).

    Needs a VAE with a spatial latent (``latent_channels`` > 0): each latent cell covers a patch of
    the model's input window. High values: the given modalities pin that region's code down poorly.

    Returns:
        (y, x) float32 variance (prior = 1), 0 outside the model's window.

    Raises:
        ModelInputError: not a VAE, or a VAE whose latent is one vector per slice.
    """
    model = as_loaded(model)
    if model.task != "vae" or not getattr(model.config, "latent_channels", 0):
        raise ModelInputError(f"{model.name}: a posterior variance map needs a VAE with a spatial latent")
    ref = reference_volume(check_volumes(model, volumes))
    if not 0 <= slice_index < ref.shape[0]:
        raise ModelInputError(f"slice_index {slice_index} is outside 0..{ref.shape[0] - 1}")
    _, var = encode(model, volumes, variance=True)  # the whole volume: a 2.5-D model needs the neighbours
    size = model.config.encoder.feature_size
    cells = var[slice_index].reshape(model.config.latent_channels, size, size).mean(0)
    return on_grid(cells, ref.shape[1:], crop_fraction(model))
