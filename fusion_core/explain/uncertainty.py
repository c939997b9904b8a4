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
from fusion_core.inference.inputs import check_volumes, crop_fraction, from_network, reference_volume
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


ACTIVE_VARIANCE = 0.9
"""A latent channel whose mean posterior variance stays above this is unused (it sits at the prior, 1)."""


@dataclasses.dataclass(frozen=True)
class PosteriorVariance:
    """The PoE VAE's posterior variance on the input grid, averaged over its active latent channels.

    Attributes:
        volume: (z, y, x) mean variance over ``channels`` per latent location (prior = 1), on the grid
            of the inputs, 0 outside the model's window; modality "VARIANCE".
        channels: the latent channels averaged (see :func:`active_channels`).
        n_channels: how many latent channels the model has.
    """

    volume: Volume
    channels: tuple[int, ...]
    n_channels: int


def has_spatial_latent(model) -> bool:
    """Whether ``model`` is a VAE whose latent is a grid of codes (``latent_channels`` > 0), not one vector."""
    return model.task == "vae" and bool(getattr(model.config, "latent_channels", 0))


def latent_variance(model, volumes: Mapping[str, Volume]) -> np.ndarray:
    """(n_slices, channels, s, s) posterior variance of a spatial-latent VAE on ``volumes`` (every slice).

    Raises:
        ModelInputError: not a VAE, or a VAE whose latent is one vector per slice.
    """
    model = as_loaded(model)
    if not has_spatial_latent(model):
        raise ModelInputError(f"{model.name}: a posterior variance map needs a VAE with a spatial latent")
    _, variance = encode(model, volumes, variance=True)  # the whole volume: a 2.5-D model needs the neighbours
    size = model.config.encoder.feature_size
    return variance.reshape(len(variance), model.config.latent_channels, size, size)


def active_channels(variance: np.ndarray) -> tuple[int, ...]:
    """The latent channels a VAE uses: mean posterior variance below :data:`ACTIVE_VARIANCE` (all if none is).

    Args:
        variance: (n_slices, channels, s, s) from :func:`latent_variance`.
    """
    active = tuple(int(c) for c in np.flatnonzero(variance.mean(axis=(0, 2, 3)) < ACTIVE_VARIANCE))
    return active or tuple(range(variance.shape[1]))


def posterior_variance(
    model, volumes: Mapping[str, Volume], *, channels: tuple[int, ...] | None = None
) -> PosteriorVariance:
    """The PoE VAE's posterior variance of every slice on the input grid, averaged over active channels.

    Each latent location covers a patch of the model's input window; high values: the given
    modalities pin that region's code down poorly. The map averages the *active* channels only: a
    VAE trained with a KL term collapses the channels it does not need onto the prior (variance 1
    everywhere, whatever the input), and averaging those in would pull every location towards 1 and
    wash out the contrast between well- and poorly-determined regions. The Attention page and the
    Generation page's what-ifs both draw this map, so they agree for the same model and inputs.

    Args:
        model: a spatial-latent VAE (name or loaded).
        volumes: the scans it is given (modality -> volume, on one grid).
        channels: latent channels to average; None = the active ones on these inputs.

    Raises:
        ModelInputError: not a VAE with a spatial latent, or volumes that do not fit it.
    """
    model = as_loaded(model)
    like = reference_volume(check_volumes(model, volumes))
    grid = latent_variance(model, volumes)
    channels = tuple(channels) if channels else active_channels(grid)
    mean = torch.from_numpy(np.ascontiguousarray(grid[:, list(channels)].mean(axis=1, keepdims=True)))
    array = from_network(mean, like, crop=crop_fraction(model)).astype(np.float32)
    return PosteriorVariance(
        like.with_array(array, modality="VARIANCE", name="posterior variance"), channels, grid.shape[1]
    )


def posterior_variance_map(model, volumes: Mapping[str, Volume], slice_index: int) -> np.ndarray:
    """One slice of :func:`posterior_variance` (active channels of these inputs).

    Returns:
        (y, x) float32 variance (prior = 1), 0 outside the model's window.

    Raises:
        ModelInputError: not a VAE with a spatial latent, or ``slice_index`` outside the volume.
    """
    model = as_loaded(model)
    ref = reference_volume(check_volumes(model, volumes))
    if not 0 <= slice_index < ref.shape[0]:
        raise ModelInputError(f"slice_index {slice_index} is outside 0..{ref.shape[0] - 1}")
    return posterior_variance(model, volumes).volume.array[slice_index]
